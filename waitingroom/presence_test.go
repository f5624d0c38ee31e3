package waitingroom

import (
	"context"
	"testing"
	"time"

	"github.com/foyerhq/foyer/internal/salekeys"
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
	k := salekeys.For(saleID)
	p := NewPresence(rdb, "n1")
	p.HeartbeatEvery = 10 * time.Millisecond
	revived := make(chan struct{}, 2)
	p.OnRevived = func(ctx context.Context) {
		if err := p.ArriveAll(ctx, saleID, []string{"stayed"}); err != nil {
			t.Error(err)
		}
		revived <- struct{}{}
	}
	if err := p.Arrive(ctx, saleID, "stayed"); err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- p.Run(runCtx) }()
	t.Cleanup(func() { stop(); <-done })
	alive := salekeys.NodeAlive("n1")
	for rdb.Exists(ctx, alive).Val() == 0 {
		if ctx.Err() != nil {
			t.Fatal("no first heartbeat")
		}
		time.Sleep(time.Millisecond) // polling a condition; the deadline is ctx's
	}

	// What an admitter does to a node it finds dead, then the lapse itself.
	if err := evictScript.Run(ctx, rdb, []string{k.Nodes, k.Conns("n1"), k.Away}, "n1", k.Conns("")).Err(); err != nil {
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
