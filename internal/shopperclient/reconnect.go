package shopperclient

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/coder/websocket"

	"github.com/foyerhq/foyer/internal/wire"
)

// Sentinel errors a Shopper's Run ends with; branch on them with errors.Is.
var (
	// ErrSaleNotFound: the server closed with 4004, there is no such sale.
	ErrSaleNotFound = errors.New("sale not found")
	// ErrUnsupportedVersion: the server closed with 4002, it does not speak
	// this client's protocol version (wire.Subprotocol).
	ErrUnsupportedVersion = errors.New("protocol version not supported by the server")
	// ErrBlocked: the operators blocked this shopper or its address.
	ErrBlocked = errors.New("blocked by the operators")
)

// recovery is what a shopper does once its connection has ended.
type recovery int

const (
	// reconnectNow: the node is draining (1001); another node takes the
	// shopper with its place, so go to the next URL at once.
	reconnectNow recovery = iota
	// renewSession: the session is invalid (4001); get a new one, then
	// reconnect at once. The place went with the old session.
	renewSession
	// reconnectLater: a passing failure (4008 too slow, 4009 idle, 1013 try
	// again later, a network error, any code this client does not know);
	// reconnect after a backoff so a crowd does not come back all at once.
	reconnectLater
	// stop: nothing more to do (1000), or nothing that retrying would fix
	// (4004, 4002, 4003, 1009); Run returns.
	stop
)

func (r recovery) String() string {
	return [...]string{"reconnect now", "renew session", "reconnect later", "stop"}[r]
}

// recoveryFor sorts out why a connection ended, from the error its reader
// got: what to do next and, for stop, the error Run returns (nil after a
// normal closure).
func recoveryFor(err error) (recovery, error) {
	// Refused before the upgrade: the API's error says why. Blocked is for
	// good; busy, rate_limited and the rest pass (see retryAfter).
	var api *APIError
	if errors.As(err, &api) && api.Code == wire.CodeBlocked {
		return stop, fmt.Errorf("%w: %w", ErrBlocked, err)
	}
	switch code := websocket.CloseStatus(err); code {
	case websocket.StatusGoingAway:
		return reconnectNow, nil
	case wire.CloseSessionInvalid:
		return renewSession, nil
	case websocket.StatusNormalClosure:
		return stop, nil
	case wire.CloseSaleNotFound:
		return stop, fmt.Errorf("%w: %w", ErrSaleNotFound, err)
	case wire.CloseUnsupportedVersion:
		return stop, fmt.Errorf("%w: %w", ErrUnsupportedVersion, err)
	case wire.CloseBlocked: // blocked while connected: the next connection would be refused
		return stop, fmt.Errorf("%w: %w", ErrBlocked, err)
	case websocket.StatusMessageTooBig:
		return stop, fmt.Errorf("the server refused a message of this client as too big: %w", err)
	default: // wire.CloseTooSlow, wire.CloseIdle, StatusTryAgainLater, -1 (no close frame: the network) and the unknown
		return reconnectLater, nil
	}
}

// wait is how long to wait before reconnecting, given how many connections
// in a row have ended without being welcomed, this one included (failures
// ≥ 1; a welcome starts the count again). "At once" holds only for the first:
// a node that drains or a session refused again and again must not turn
// into a busy loop, so repeats back off like any failure.
func (r recovery) wait(failures int, b Backoff) time.Duration {
	switch r {
	case reconnectNow, renewSession:
		if failures <= 1 {
			return 0
		}
		return b.Delay(failures - 2)
	case reconnectLater:
		return b.Delay(failures - 1)
	default:
		return 0
	}
}

// Backoff is exponential backoff with full jitter: the n-th wait (from 0) is
// drawn uniformly from [0, min(Max, Min·2ⁿ)). Full jitter spreads the
// thousands of shoppers a failed node drops over the whole window, instead
// of sending them back in waves.
type Backoff struct {
	// Min is the ceiling of the first wait. Defaults to 500 ms.
	Min time.Duration
	// Max caps the ceiling. Defaults to 15 s.
	Max time.Duration
	// Rand returns a number in [0, 1); tests make it deterministic.
	// Defaults to math/rand/v2's Float64.
	Rand func() float64
}

// DefaultBackoff is the backoff docs/protocol.md asks for: 0.5 s doubling
// to 15 s, with full jitter.
var DefaultBackoff = Backoff{Min: 500 * time.Millisecond, Max: 15 * time.Second, Rand: rand.Float64}

// Delay returns the wait before retry n (n ≥ 0).
func (b Backoff) Delay(n int) time.Duration {
	b = b.withDefaults()
	ceiling := b.Min
	for range max(n, 0) {
		if ceiling >= b.Max {
			break
		}
		ceiling *= 2
	}
	ceiling = min(ceiling, b.Max)
	return time.Duration(b.Rand() * float64(ceiling))
}

func (b Backoff) withDefaults() Backoff {
	if b.Min <= 0 {
		b.Min = DefaultBackoff.Min
	}
	if b.Max <= 0 {
		b.Max = DefaultBackoff.Max
	}
	if b.Rand == nil {
		b.Rand = DefaultBackoff.Rand
	}
	return b
}

// retryAfter is how long a refusal asked the client to stay away (its
// Retry-After), or zero.
func retryAfter(err error) time.Duration {
	var api *APIError
	if !errors.As(err, &api) {
		return 0
	}
	n, convErr := strconv.Atoi(api.RetryAfter)
	if convErr != nil || n <= 0 {
		return 0
	}
	return time.Duration(n) * time.Second
}
