package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/foyerhq/foyer/internal/shopperclient"
)

// bareCrowd is n WebSocket clients of the bare server, each reading in a
// goroutine and noting how long each broadcast took to reach it.
type bareCrowd struct {
	conns []*websocket.Conn
	wg    sync.WaitGroup
	// pingers send each connection's keepalive, as the load generator's
	// shoppers send theirs: a timer each, no goroutine between pings.
	pingers   []*time.Timer
	pingersMu sync.Mutex // guards pingers, and stopped
	stopped   bool

	mu        sync.Mutex
	latencies map[time.Time][]time.Duration // by broadcast (its send time)
}

// barePing is the keepalive the bare clients send: the text of the product
// client's ping, so both crowds send the same bytes.
var barePing = []byte(`{"type":"ping"}`)

// connectBare opens n connections to the bare server at base, at most
// concurrency at a time, and reports how fast they were accepted. Each
// connection sends barePing every pingEvery from its connect on, as a
// shopperclient.Conn pings from its Connect (zero: never).
func connectBare(ctx context.Context, base string, n, concurrency int, pingEvery time.Duration) (*bareCrowd, float64, error) {
	crowd := &bareCrowd{conns: make([]*websocket.Conn, n), latencies: map[time.Time][]time.Duration{}}
	url := "ws" + strings.TrimPrefix(base, "http") + "/ws"
	// Spread over eight loopback source addresses, as the load generator's
	// players are: one address runs out of ports after a few big runs leave
	// theirs in TIME_WAIT.
	var clients []*http.Client
	for k := range 8 {
		transport, err := shopperclient.TransportFrom(fmt.Sprintf("127.0.1.%d", 2+k))
		if err != nil {
			return nil, 0, err
		}
		clients = append(clients, &http.Client{Transport: transport})
	}
	slots := make(chan struct{}, concurrency)
	var failed atomic.Int64
	var firstErr atomic.Value
	start := time.Now()
	var dialing sync.WaitGroup
	for i := range n {
		slots <- struct{}{}
		dialing.Go(func() {
			defer func() { <-slots }()
			c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPClient: clients[i%len(clients)]})
			if err != nil {
				failed.Add(1)
				firstErr.CompareAndSwap(nil, err)
				return
			}
			crowd.conns[i] = c
			if pingEvery > 0 {
				crowd.keepalive(c, pingEvery)
			}
		})
	}
	dialing.Wait()
	rate := float64(n) / time.Since(start).Seconds()
	if f := failed.Load(); f > 0 {
		crowd.close()
		return nil, 0, fmt.Errorf("%d of %d bare connections failed, the first: %v", f, n, firstErr.Load())
	}
	for _, c := range crowd.conns {
		crowd.wg.Go(func() { crowd.read(c) })
	}
	return crowd, rate, nil
}

func (b *bareCrowd) read(c *websocket.Conn) {
	for {
		_, msg, err := c.Read(context.Background())
		if err != nil {
			return
		}
		now := time.Now()
		// Decoded as the load generator decodes Foyer's messages, so that
		// both sides of the ratio pay the same client.
		var m shopperclient.Message
		if json.Unmarshal(msg, &m) != nil {
			continue
		}
		if sent, ok := sentAt(msg); ok {
			b.mu.Lock()
			b.latencies[sent] = append(b.latencies[sent], now.Sub(sent))
			b.mu.Unlock()
		}
	}
}

// waitRead waits until every broadcast heard so far has reached all n
// connections, or for timeout at most.
func (b *bareCrowd) waitRead(n int, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		complete := true
		for _, ds := range b.rounds() {
			complete = complete && len(ds) >= n
		}
		if complete {
			return
		}
		time.Sleep(20 * time.Millisecond) // readers note each arrival under a lock; polling it is enough here
	}
}

// rounds returns every broadcast's latencies, in the order the broadcasts
// were sent.
func (b *bareCrowd) rounds() [][]time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	sent := slices.SortedFunc(maps.Keys(b.latencies), time.Time.Compare)
	out := make([][]time.Duration, len(sent))
	for i, t := range sent {
		out[i] = b.latencies[t]
	}
	return out
}

// keepalive pings c every `every` until the crowd closes, or a ping fails.
func (b *bareCrowd) keepalive(c *websocket.Conn, every time.Duration) {
	b.pingersMu.Lock()
	defer b.pingersMu.Unlock()
	var t *time.Timer
	t = time.AfterFunc(every, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := c.Write(ctx, websocket.MessageText, barePing)
		cancel()
		b.pingersMu.Lock()
		if err == nil && !b.stopped {
			t.Reset(every)
		}
		b.pingersMu.Unlock()
	})
	b.pingers = append(b.pingers, t)
}

func (b *bareCrowd) close() {
	b.pingersMu.Lock()
	b.stopped = true
	for _, t := range b.pingers {
		t.Stop()
	}
	b.pingersMu.Unlock()
	for _, c := range b.conns {
		if c != nil {
			c.CloseNow()
		}
	}
	b.wg.Wait()
}
