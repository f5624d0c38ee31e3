package app_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/foyerhq/foyer/internal/shopperclient"
	"github.com/foyerhq/foyer/waitingroom"
)

// waiter is one shopper of the load test: its connection and the last
// position it was told.
type waiter struct {
	conn   *shopperclient.Conn
	id     string
	last   atomic.Int64
	rose   atomic.Bool
	placed sync.Once
}

// watch reads w's messages until its connection ends, keeping the last
// position, and marks it placed at its first.
func (w *waiter) watch(placed *sync.WaitGroup) {
	for {
		m, err := w.conn.Next(context.Background())
		if err != nil {
			return
		}
		if m.Type == "welcome" {
			if s, ok := m.MadeSession(); ok {
				w.id = s.ShopperID
			}
		}
		if m.Type != "position" {
			continue
		}
		if last := w.last.Load(); last > 0 && m.Position > last {
			w.rose.Store(true)
		}
		w.last.Store(m.Position)
		w.placed.Do(placed.Done)
	}
}

// Five thousand shoppers wait over the HTTP fallback on one node, a
// hundred over WebSockets among them, all arriving at once: every one is
// told the position that is its rank in the queue, whichever way it is
// connected, and no position rises. Not timed: its pass is the positions, not a speed; it takes under a
// minute with -race on two shared cores.
func TestFiveThousandShoppersWaitOverTheFallbackOnOneNodeAtTheQueuesRanks(t *testing.T) {
	const overEvents, overSockets = 5000, 100
	sys := startSystem(t)
	saleID := sys.createSale(t, map[string]any{"sku": "F-L", "name": "Fallback load", "stock": 10, "outflow_per_second": stalled})
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	started := time.Now()

	events, sockets := shopperclient.New(sys.URL), shopperclient.New(sys.URL)
	events.SetWire(shopperclient.OverEvents)
	waiters := make([]*waiter, overEvents+overSockets)
	var placed sync.WaitGroup
	placed.Add(len(waiters))
	arrivals := errgroup.Group{}
	arrivals.SetLimit(64)
	for i := range waiters {
		client := events
		if i%(overEvents/overSockets) == 0 && i/(overEvents/overSockets) < overSockets {
			client = sockets
		}
		w := &waiter{}
		waiters[i] = w
		arrivals.Go(func() error {
			conn, err := client.Arrive(ctx, saleID, nil) // session=new&join=1
			if err != nil {
				return err
			}
			w.conn = conn
			go w.watch(&placed)
			return nil
		})
	}
	// Closed whatever happens: a failed arrival used to leave the others'
	// 5,000 streams open to the end of the shard's process, and the tests
	// after it counted their goroutines.
	t.Cleanup(func() {
		for _, w := range waiters {
			if w.conn != nil {
				w.conn.CloseNow()
			}
		}
	})
	if err := arrivals.Wait(); err != nil {
		t.Fatal(err)
	}
	allPlaced := make(chan struct{})
	go func() { placed.Wait(); close(allPlaced) }()
	select {
	case <-allPlaced:
	case <-ctx.Done():
		t.Fatal("not every shopper was told a position")
	}
	t.Logf("%d shoppers placed in %v", len(waiters), time.Since(started).Round(time.Millisecond))

	queue, err := sys.Redis.ZRange(ctx, waitingroom.Keys(saleID).Queue, 0, -1).Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(queue) != len(waiters) {
		t.Fatalf("%d in the queue, want %d", len(queue), len(waiters))
	}
	rank := make(map[string]int64, len(queue))
	for i, id := range queue {
		rank[id] = int64(i + 1)
	}
	wrong := 0
	for i, w := range waiters {
		if w.rose.Load() {
			t.Errorf("shopper %d (%s): a position rose", i, w.id)
		}
		if got, want := w.last.Load(), rank[w.id]; got != want {
			wrong++
			if wrong <= 5 {
				t.Errorf("shopper %d (%s): told position %d, ranked %d", i, w.id, got, want)
			}
		}
	}
	if wrong > 0 {
		t.Fatalf("%d of %d shoppers told a position other than their rank", wrong, len(waiters))
	}
}
