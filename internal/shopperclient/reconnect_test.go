package shopperclient

import (
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/coder/websocket"
)

func closedWith(code websocket.StatusCode) error {
	// As Conn.Next returns it, wrapped or not: recoveryFor looks inside.
	return fmt.Errorf("read: %w", websocket.CloseError{Code: code, Reason: "test"})
}

func TestEachCloseCodeLeadsToTheRecoveryTheProtocolAsks(t *testing.T) {
	tests := []struct {
		name  string
		err   error
		want  recovery
		final error // the error Run ends with, for stop
	}{
		{"1000 normal closure", closedWith(websocket.StatusNormalClosure), stop, nil},
		{"1001 node draining", closedWith(websocket.StatusGoingAway), reconnectNow, nil},
		{"1009 message too big", closedWith(websocket.StatusMessageTooBig), stop, websocket.CloseError{Code: websocket.StatusMessageTooBig, Reason: "test"}},
		{"1013 try again later", closedWith(websocket.StatusTryAgainLater), reconnectLater, nil},
		{"1011 internal error", closedWith(websocket.StatusInternalError), reconnectLater, nil},
		{"4001 session invalid", closedWith(4001), renewSession, nil},
		{"4002 unsupported version", closedWith(4002), stop, ErrUnsupportedVersion},
		{"4003 blocked", closedWith(4003), stop, ErrBlocked},
		{"4004 sale not found", closedWith(4004), stop, ErrSaleNotFound},
		{"4008 too slow", closedWith(4008), reconnectLater, nil},
		{"4009 idle", closedWith(4009), reconnectLater, nil},
		{"4999 unknown to this client", closedWith(4999), reconnectLater, nil},
		{"network error", fmt.Errorf("connect to sale s_1: %w", io.ErrUnexpectedEOF), reconnectLater, nil},
		{"session refused over HTTP", &APIError{Status: 500, Code: "internal"}, reconnectLater, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, final := recoveryFor(tt.err)
			if got != tt.want {
				t.Errorf("recovery %v, want %v", got, tt.want)
			}
			switch {
			case tt.final == nil && final != nil:
				t.Errorf("ends Run with %v, want nil", final)
			case tt.final != nil && !errors.Is(final, tt.final):
				t.Errorf("ends Run with %v, want it to wrap %v", final, tt.final)
			}
		})
	}
}

func TestBackoffDoublesFromHalfASecondToFifteenWithFullJitter(t *testing.T) {
	tests := []struct {
		rand float64
		want []time.Duration // retries 0, 1, 2, ...
	}{
		{0.999999999, []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second,
			8 * time.Second, 15 * time.Second, 15 * time.Second, 15 * time.Second}},
		{0.5, []time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second,
			4 * time.Second, 7500 * time.Millisecond, 7500 * time.Millisecond}},
		{0, []time.Duration{0, 0, 0, 0, 0, 0}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.rand), func(t *testing.T) {
			b := Backoff{Rand: func() float64 { return tt.rand }}
			for n, want := range tt.want {
				if got := b.Delay(n); got.Round(time.Millisecond) != want {
					t.Errorf("retry %d waits %v, want %v", n, got, want)
				}
			}
		})
	}
	huge := Backoff{Rand: func() float64 { return 0.5 }}.Delay(1000)
	if huge != 7500*time.Millisecond {
		t.Errorf("retry 1000 waits %v: the ceiling must stay at 15 s, not overflow", huge)
	}
}

func TestBackoffWaitsFollowTheRecoveryAndTheFailuresInARow(t *testing.T) {
	b := Backoff{Rand: func() float64 { return 0.5 }}
	tests := []struct {
		rec      recovery
		failures int
		want     time.Duration
	}{
		{reconnectNow, 1, 0}, // a node drained under a welcomed shopper: straight to the next
		{reconnectNow, 2, 250 * time.Millisecond},
		{reconnectNow, 3, 500 * time.Millisecond}, // every node draining: no busy loop
		{renewSession, 1, 0},
		{renewSession, 2, 250 * time.Millisecond}, // a fresh session refused too
		{reconnectLater, 1, 250 * time.Millisecond},
		{reconnectLater, 2, 500 * time.Millisecond},
		{reconnectLater, 6, 7500 * time.Millisecond},
		{reconnectLater, 60, 7500 * time.Millisecond},
		{stop, 1, 0},
	}
	for _, tt := range tests {
		if got := tt.rec.wait(tt.failures, b); got != tt.want {
			t.Errorf("%v after %d failures in a row: wait %v, want %v", tt.rec, tt.failures, got, tt.want)
		}
	}
}

func TestARefusalBeforeTheUpgradeIsObeyed(t *testing.T) {
	busy := fmt.Errorf("connect to sale s: %w", &APIError{Status: 503, Code: "busy", RetryAfter: "7"})
	if rec, final := recoveryFor(busy); rec != reconnectLater || final != nil {
		t.Errorf("busy: %v, %v; want reconnect later", rec, final)
	}
	if got := retryAfter(busy); got != 7*time.Second {
		t.Errorf("busy with Retry-After 7: wait %v, want 7s", got)
	}
	blocked := fmt.Errorf("connect to sale s: %w", &APIError{Status: 403, Code: "blocked"})
	if rec, final := recoveryFor(blocked); rec != stop || !errors.Is(final, ErrBlocked) {
		t.Errorf("blocked: %v, %v; want stop with ErrBlocked", rec, final)
	}
	if got := retryAfter(errors.New("network")); got != 0 {
		t.Errorf("a network error asks no wait, got %v", got)
	}
}
