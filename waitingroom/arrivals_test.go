package waitingroom

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestArrivalsAskedTogetherGoInOneRoundTripEachWithItsOwnPlace has 20
// shoppers arrive at a sale, joining, while the first arrival is on its
// way, and 3 more whose callers gave up before their turn. The 20 go in one
// round trip after the first (2 in all; 21 before, one each), under one
// read of the status made after they asked. Each is recorded on the node
// and gets a place of its own, in the queue once; the ones that gave up
// are in neither.
func TestArrivalsAskedTogetherGoInOneRoundTripEachWithItsOwnPlace(t *testing.T) {
	rdb, _, saleID := openSale(t, 10)
	ctx := t.Context()
	k := Keys(saleID)
	client := redis.NewClient(rdb.Options())
	t.Cleanup(func() { client.Close() })
	hook := newHeldFirst()
	client.AddHook(hook)
	p := NewPresence(client, "n1")
	for _, s := range []*redis.Script{arriveScript, joinScript} {
		if err := s.Load(ctx, rdb).Err(); err != nil {
			t.Fatal(err)
		}
	}

	gaveUp, cancel := context.WithCancel(ctx)
	cancel()
	const joining, givingUp = 21, 3
	arrivals, errs := make([]Arrival, joining+givingUp), make([]error, joining+givingUp)
	var wg sync.WaitGroup
	arrive := func(i int) {
		c := ctx
		if i >= joining {
			c = gaveUp
		}
		wg.Go(func() {
			arrivals[i], errs[i] = p.ArriveAndJoin(c, saleID, fmt.Sprintf("a%02d", i), fmt.Sprintf("t_a%02d", i), true)
		})
	}
	arrive(0)
	<-hook.holding
	for i := 1; i < joining+givingUp; i++ {
		arrive(i)
	}
	for deadline := time.Now().Add(10 * time.Second); p.arrivals.Waiting(saleID) != joining+givingUp-1; {
		if time.Now().After(deadline) {
			t.Fatalf("%d arrivals waiting, want %d", p.arrivals.Waiting(saleID), joining+givingUp-1)
		}
		time.Sleep(time.Millisecond)
	}
	close(hook.letGo)
	wg.Wait()

	tickets := map[int64]bool{}
	for i := range joining {
		a := arrivals[i]
		if errs[i] != nil || a.ArriveErr != nil || a.JoinErr != nil {
			t.Fatalf("arrival %d: %v, %v, %v", i, errs[i], a.ArriveErr, a.JoinErr)
		}
		if a.Place.Txn != fmt.Sprintf("t_a%02d", i) || tickets[a.Place.Ticket] || a.Place.Position < 1 {
			t.Errorf("arrival %d: place %+v, want one of its own with its transaction", i, a.Place)
		}
		tickets[a.Place.Ticket] = true
		// The first read the status before its join; the rest, once, after
		// the first joined and before their own joins.
		want := int64(1)
		if i == 0 {
			want = 0
		}
		if a.Status.Waiting != want {
			t.Errorf("arrival %d saw %d waiting, want 0 for the first and 1 for the rest", i, a.Status.Waiting)
		}
	}
	for i := joining; i < joining+givingUp; i++ {
		if !errors.Is(errs[i], context.Canceled) {
			t.Errorf("arrival %d, given up: %v, want its context's end", i, errs[i])
		}
	}
	if n := hook.n.Load(); n != 2 {
		t.Errorf("%d round trips for %d arrivals, want 2: the first, then the rest in one", n, joining+givingUp)
	}
	if n := rdb.ZCard(ctx, k.Queue).Val(); n != joining {
		t.Errorf("%d in the queue, want the %d that joined", n, joining)
	}
	if n := rdb.SCard(ctx, k.Conns("n1")).Val(); n != joining {
		t.Errorf("%d connections recorded on the node, want %d", n, joining)
	}
}
