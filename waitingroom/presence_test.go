package waitingroom

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/foyerhq/foyer/internal/defence/ratelimit"
)

// TestANodeThatLookedDeadSaysAgainWhomItHolds plays a Redis outage longer
// than a heartbeat: an admitter took the node for dead and its shopper, still
// connected, for away. The node's next heartbeat finds its previous one
// lapsed, and the shopper is present again: its place is not lost when the
// grace period ends.
func TestANodeThatLookedDeadSaysAgainWhomItHolds(t *testing.T) {
	rdb, rooms, saleID := openSale(t, 10)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	join(t, rooms, saleID, "stayed")
	k := Keys(saleID)
	p := NewPresence(rdb, "n1")
	p.HeartbeatEvery = 10 * time.Millisecond
	revived := make(chan struct{}, 2)
	onRevived := func(ctx context.Context) {
		// Run revives twice, the second a heartbeat later; the test may end
		// and stop the run during it, which is no failure of the arrival.
		if err := p.ArriveAll(ctx, saleID, []string{"stayed"}); err != nil && ctx.Err() == nil {
			t.Error(err)
		}
		revived <- struct{}{}
	}
	if err := p.Arrive(ctx, saleID, "stayed"); err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- p.Run(runCtx, onRevived) }()
	t.Cleanup(func() { stop(); <-done })
	alive := nodeAlive("n1")
	for rdb.Exists(ctx, alive).Val() == 0 {
		if ctx.Err() != nil {
			t.Fatal("no first heartbeat")
		}
		time.Sleep(time.Millisecond) // polling a condition; the deadline is ctx's
	}

	// What an admitter does to a node it finds dead, then the lapse itself.
	if err := evictScript.Run(ctx, rdb, []string{k.Nodes, k.Conns("n1"), k.Present, k.Away}, "n1").Err(); err != nil {
		t.Fatal(err)
	}
	if rdb.ZScore(ctx, k.Away, "stayed").Err() != nil {
		t.Fatal("the evicted shopper is not away")
	}
	rdb.Del(ctx, alive)
	select {
	case <-revived:
	case <-ctx.Done():
		t.Fatal("the node never noticed its heartbeat had lapsed")
	}
	if rdb.ZScore(ctx, k.Away, "stayed").Err() == nil {
		t.Error("the shopper the node still holds is away after the node came back")
	}
	if !rdb.SIsMember(ctx, k.Conns("n1"), "stayed").Val() || !rdb.SIsMember(ctx, k.Nodes, "n1").Val() {
		t.Error("the node does not hold its shopper again")
	}
}

// TestArriveAndJoinIsAStatusAnArrivalAndAJoin checks the one-round-trip
// arrival against its parts: the status is read before the join, the
// shopper is present on the node and no longer away, and has the place
// Rooms.Join gives, kept when it comes again, also after Redis has lost its
// scripts. A sale's refusal of the join is the join's own; a sale that is
// not there gets nothing recorded.
func TestArriveAndJoinIsAStatusAnArrivalAndAJoin(t *testing.T) {
	rdb, rooms, saleID := openSale(t, 10)
	ctx := t.Context()
	k := Keys(saleID)
	p := NewPresence(rdb, "n1")
	join(t, rooms, saleID, "first")
	rdb.ZAdd(ctx, k.Away, redis.Z{Score: 1, Member: "second"}) // left a while ago, back within the grace period

	// Only join.lua is in Redis's script cache yet (the join above loaded
	// it): the arrival's script is sent again whole.
	a, err := p.ArriveAndJoin(ctx, saleID, "second", "t_second", true)
	if err != nil || a.ArriveErr != nil || a.JoinErr != nil {
		t.Fatal(err, a.ArriveErr, a.JoinErr)
	}
	if a.Place.Ticket != 2 || a.Place.Position != 2 || a.Place.Txn != "t_second" {
		t.Fatalf("place %+v, want ticket 2 at position 2 with its transaction", a.Place)
	}
	if a.Status.SaleID != saleID || a.Status.State != StateOpen || a.Status.Waiting != 1 || a.Status.Stock != 10 {
		t.Errorf("status %+v, want the open sale of 10 with the one shopper who was waiting before", a.Status)
	}
	if !rdb.SIsMember(ctx, k.Conns("n1"), "second").Val() || !rdb.SIsMember(ctx, k.Nodes, "n1").Val() {
		t.Error("the shopper is not recorded as connected to the node")
	}
	if rdb.ZScore(ctx, k.Away, "second").Err() == nil {
		t.Error("the shopper who arrived is still away")
	}

	if err := rdb.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	again, err := p.ArriveAndJoin(ctx, saleID, "second", "t_other", true)
	if err != nil || again.ArriveErr != nil || again.JoinErr != nil {
		t.Fatalf("after Redis lost its scripts: %v, %+v", err, again)
	}
	if again.Place != a.Place || again.Status.Waiting != 2 {
		t.Errorf("came again with %+v among %d waiting, had %+v", again.Place, again.Status.Waiting, a.Place)
	}

	onlyHere, err := p.ArriveAndJoin(ctx, saleID, "browsing", "t_browsing", false)
	if err != nil || onlyHere.ArriveErr != nil || onlyHere.JoinErr != nil || onlyHere.Place != (Place{}) {
		t.Fatalf("arriving without joining: %+v, %v", onlyHere, err)
	}
	if !rdb.SIsMember(ctx, k.Conns("n1"), "browsing").Val() || rdb.ZScore(ctx, k.Queue, "browsing").Err() == nil {
		t.Error("arriving without joining: not recorded as connected, or in the queue")
	}

	if _, err := p.ArriveAndJoin(ctx, saleID, "bad id!", "t_x", true); !errors.Is(err, ErrInvalidShopper) {
		t.Errorf("bad shopper id: %v, want ErrInvalidShopper", err)
	}
	ghost := Keys("s_ghost")
	if _, err := p.ArriveAndJoin(ctx, "s_ghost", "lost", "t_lost", true); !errors.Is(err, ErrSaleNotFound) {
		t.Errorf("a sale that is not there: %v, want ErrSaleNotFound", err)
	}
	if n := rdb.Exists(ctx, ghost.Nodes, ghost.Conns("n1"), ghost.Queue).Val(); n != 0 {
		t.Errorf("a sale that is not there got %d keys", n)
	}
	if err := rdb.HSet(ctx, k.Meta, "state", string(StateEnded)).Err(); err != nil {
		t.Fatal(err)
	}
	late, err := p.ArriveAndJoin(ctx, saleID, "late", "t_late", true)
	if err != nil || late.ArriveErr != nil || !errors.Is(late.JoinErr, ErrSaleEnded) || late.Status.State != StateEnded {
		t.Errorf("joining an ended sale: %v, %+v, want the status and ErrSaleEnded", err, late)
	}
}

// TestACountRidingInTheArrivalRunsOnce: the shopper's connection count goes
// in the arrival's round trip. When Redis has lost the arrival's scripts but
// not the count's, only the lost ones are sent again: a count sent twice
// would find its own slot taken, and a cap of one would refuse the shopper.
func TestACountRidingInTheArrivalRunsOnce(t *testing.T) {
	rdb, _, saleID := openSale(t, 10)
	ctx := t.Context()
	p := NewPresence(rdb, "n1")
	conns := ratelimit.NewConns(rdb, "ws_shopper")
	if err := rdb.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := conns.Acquire(ctx, "shopper:someone-else", 1); err != nil { // loads the count's script alone
		t.Fatal(err)
	}
	count := conns.Count("shopper:new", 1)
	a, err := p.ArriveAndJoin(ctx, saleID, "new", "t_new", true, count)
	if err != nil || a.ArriveErr != nil || a.JoinErr != nil || a.Place.Ticket != 1 {
		t.Fatalf("arrival %+v, %v", a, err)
	}
	release, err := count.Result()
	if err != nil {
		t.Fatalf("the new shopper's count: %v", err)
	}
	if _, err := conns.Acquire(ctx, "shopper:new", 1); !errors.Is(err, ratelimit.ErrTooManyConns) {
		t.Errorf("a second connection under a cap of one: %v, want ErrTooManyConns", err)
	}
	if err := release(ctx); err != nil {
		t.Fatal(err)
	}
}
