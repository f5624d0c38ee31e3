package shopperclient

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// waits records the backoffs a Shopper asks for, without waiting them out.
type waits struct {
	mu   sync.Mutex
	list []time.Duration
}

func (w *waits) sleep(ctx context.Context, d time.Duration) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.list = append(w.list, d)
	return ctx.Err()
}

func (w *waits) check(t *testing.T, want ...time.Duration) {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	if !slices.Equal(w.list, want) {
		t.Fatalf("the shopper waited %v, want %v", w.list, want)
	}
}

// halfJitter draws every backoff at half its ceiling: 250 ms, 500 ms, 1 s...
var halfJitter = Backoff{Rand: func() float64 { return 0.5 }}

// runShopper runs sh until the test ends, and returns where Run's error goes.
func runShopper(t *testing.T, ctx context.Context, sh *Shopper) <-chan error {
	ctx, cancel := context.WithCancel(ctx)
	errc := make(chan error, 1)
	go func() { errc <- sh.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		for range sh.Messages() {
		}
	})
	return errc
}

// nextMessage waits for the shopper's next message and checks its type.
func nextMessage(t *testing.T, ctx context.Context, sh *Shopper, want string) Message {
	t.Helper()
	for {
		select {
		case m, ok := <-sh.Messages():
			if !ok {
				t.Fatalf("messages ended while waiting for %q", want)
			}
			if m.Type == "time" || m.Type == "pong" {
				continue
			}
			if m.Type != want {
				t.Fatalf("got a %q message, want %q", m.Type, want)
			}
			return m
		case <-ctx.Done():
			t.Fatalf("no %q message", want)
		}
	}
}

func TestAShopperActsOnEachCloseCodeAndKeepsItsPlace(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	urls, accepted := fakeDeployment(t, fakeClock{}, "a", "b")
	var w waits
	sh := NewShopper(urls, "s_test", WithBackoff(halfJitter), WithSleep(w.sleep))
	errc := runShopper(t, ctx, sh)
	sh.Join(ctx) // before any connection: sent once welcomed

	c := nextConn(t, ctx, accepted)
	if c.node != "a" || c.token != "token-1" {
		t.Fatalf("first connection to %s with %s, want a with token-1", c.node, c.token)
	}
	c.send(t, ctx, `{"type":"welcome"}`)
	c.expect(t, ctx, "join")
	c.send(t, ctx, `{"type":"position","position":2}`)
	nextMessage(t, ctx, sh, "welcome")
	if m := nextMessage(t, ctx, sh, "position"); m.Position != 2 {
		t.Fatalf("position %d, want 2", m.Position)
	}
	c.close(websocket.StatusGoingAway)

	// Draining: straight to the next node, same session, and the place resumed.
	c = nextConn(t, ctx, accepted)
	if c.node != "b" || c.token != "token-1" {
		t.Fatalf("after 1001: connection to %s with %s, want b with token-1", c.node, c.token)
	}
	w.check(t)
	c.send(t, ctx, `{"type":"welcome"}`)
	c.expect(t, ctx, "resume")
	c.close(4008)

	// Too slow: back off, then resume again.
	c = nextConn(t, ctx, accepted)
	w.check(t, 250*time.Millisecond)
	c.send(t, ctx, `{"type":"welcome"}`)
	c.expect(t, ctx, "resume")
	c.close(4001)

	// Session refused: a new one at once; the place went with the old one.
	c = nextConn(t, ctx, accepted)
	if c.token != "token-2" {
		t.Fatalf("after 4001: connected with %s, want a new session token-2", c.token)
	}
	if sh.Session().Token != "token-2" {
		t.Errorf("Session() is %s, want token-2", sh.Session().Token)
	}
	w.check(t, 250*time.Millisecond)
	c.send(t, ctx, `{"type":"welcome"}`)
	c.expect(t, ctx, "join")
	c.close(4009)

	// Idle, then refused twice before any welcome: the backoff grows.
	nextConn(t, ctx, accepted).close(websocket.StatusTryAgainLater)
	nextConn(t, ctx, accepted).close(4004)
	if err := <-errc; !errors.Is(err, ErrSaleNotFound) {
		t.Fatalf("Run ended with %v, want ErrSaleNotFound", err)
	}
	w.check(t, 250*time.Millisecond, 250*time.Millisecond, 500*time.Millisecond)
}

func TestAShopperStopsOnCloseCodesThatRetryingCannotFix(t *testing.T) {
	tests := []struct {
		code websocket.StatusCode
		want error
	}{
		{4004, ErrSaleNotFound},
		{4002, ErrUnsupportedVersion},
		{websocket.StatusNormalClosure, nil},
	}
	for _, tt := range tests {
		t.Run(tt.code.String(), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			urls, accepted := fakeDeployment(t, fakeClock{}, "a")
			sh := NewShopper(urls, "s_test", WithSleep(func(context.Context, time.Duration) error {
				t.Error("backed off before giving up")
				return nil
			}))
			errc := runShopper(t, ctx, sh)
			c := nextConn(t, ctx, accepted)
			c.send(t, ctx, `{"type":"error","code":"test"}`)
			c.close(tt.code)
			err := <-errc
			if (tt.want == nil && err != nil) || !errors.Is(err, tt.want) {
				t.Fatalf("Run ended with %v, want %v", err, tt.want)
			}
			// What the server said before closing still reaches the consumer.
			if m, ok := <-sh.Messages(); !ok || m.Type != "error" {
				t.Errorf("the consumer got %v (%v), want the server's error message", m.Type, ok)
			}
			if _, ok := <-sh.Messages(); ok {
				t.Error("Messages is still open after Run returned")
			}
		})
	}
}

func TestAShopperThatLeavesWhileDisconnectedLeavesOnceBack(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	urls, accepted := fakeDeployment(t, fakeClock{}, "a")
	var sh *Shopper
	sh = NewShopper(urls, "s_test", WithSleep(func(ctx context.Context, d time.Duration) error {
		return sh.Leave(ctx) // between connections
	}))
	runShopper(t, ctx, sh)
	c := nextConn(t, ctx, accepted)
	c.send(t, ctx, `{"type":"welcome"}`)
	nextMessage(t, ctx, sh, "welcome")
	sh.Join(ctx)
	c.expect(t, ctx, "join")
	c.close(websocket.StatusTryAgainLater)

	c = nextConn(t, ctx, accepted)
	c.send(t, ctx, `{"type":"welcome"}`)
	c.expect(t, ctx, "leave")
}

func TestAShopperSlowToReadLosesTheOldestMessagesNotTheConnection(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	urls, accepted := fakeDeployment(t, fakeClock{silent: true}, "a")
	sh := NewShopper(urls, "s_test", WithMessageBuffer(2))
	errc := runShopper(t, ctx, sh)
	c := nextConn(t, ctx, accepted)
	for _, m := range []string{`{"type":"welcome"}`, `{"type":"position","position":4}`, `{"type":"position","position":3}`,
		`{"type":"position","position":2}`, `{"type":"position","position":1}`} {
		c.send(t, ctx, m)
	}
	c.close(4004) // nobody has read a thing yet
	<-errc
	var got []int64
	for m := range sh.Messages() {
		if m.Type == "position" {
			got = append(got, m.Position)
		}
	}
	if !slices.Equal(got, []int64{2, 1}) || sh.Dropped() != 3 {
		t.Errorf("a consumer reading late got positions %v with %d dropped, want the newest two, [2 1], and 3 dropped",
			got, sh.Dropped())
	}
}

func TestAShopperSyncsItsClockOnConnecting(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	urls, accepted := fakeDeployment(t, fakeClock{skew: 3 * time.Second}, "a")
	sh := NewShopper(urls, "s_test")
	runShopper(t, ctx, sh)
	c := nextConn(t, ctx, accepted)
	c.send(t, ctx, `{"type":"welcome"}`)
	for answers := 0; answers < clockSamples; {
		select {
		case m := <-sh.Messages():
			if m.Type == "time" {
				answers++
			}
		case <-ctx.Done():
			t.Fatalf("%d answers to time requests, want %d", answers, clockSamples)
		}
	}
	if off := sh.Offset(); off < 3*time.Second-20*time.Millisecond || off > 3*time.Second+20*time.Millisecond {
		t.Errorf("offset %v from a server 3s ahead", off)
	}
	if ahead := time.Until(sh.ServerNow()); ahead < 2900*time.Millisecond {
		t.Errorf("ServerNow is %v ahead of our clock, want about 3s", ahead)
	}
}
