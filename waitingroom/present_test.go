package waitingroom

import (
	"context"
	"testing"
	"time"
)

// present counts the nodes that hold a shopper, so a departure or a dead
// node's eviction needs no other node's set: the count must follow every
// way a node gains or loses the shopper. A shopper on two nodes, one of
// which is taken for dead and comes back, is away only once the last of
// them lets it go, and an arrival on a node that already holds it does not
// count twice.
func TestAShopperIsAwayOnlyOnceNoNodeHoldsItWhateverTheOrder(t *testing.T) {
	rdb, rooms, saleID := openSale(t, 10)
	ctx := context.Background()
	k := Keys(saleID)
	join(t, rooms, saleID, "roamer")
	n1, n2 := NewPresence(rdb, "n1"), NewPresence(rdb, "n2")
	away := func() bool {
		t.Helper()
		return rdb.ZScore(ctx, k.Away, "roamer").Err() == nil
	}
	for _, step := range []func() error{
		func() error { return n1.Arrive(ctx, saleID, "roamer") },
		func() error { return n1.Arrive(ctx, saleID, "roamer") }, // a second tab on n1
		func() error { return n2.Arrive(ctx, saleID, "roamer") },
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	if n := rdb.HGet(ctx, k.Present, "roamer").Val(); n != "2" {
		t.Fatalf("held by %s nodes, want 2", n)
	}

	// n1 is taken for dead: n2 still holds the shopper.
	if err := rdb.Set(ctx, nodeAlive("n2"), 1, time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	if err := evictDead(ctx, rdb, saleID); err != nil {
		t.Fatal(err)
	}
	if away() {
		t.Fatal("away when n1 was taken for dead, though n2 holds it")
	}
	// n1 was only slow: it says again whom it holds.
	if err := n1.ArriveAll(ctx, saleID, []string{"roamer"}); err != nil {
		t.Fatal(err)
	}
	if err := n2.Depart(ctx, saleID, "roamer"); err != nil {
		t.Fatal(err)
	}
	if away() {
		t.Fatal("away when n2 let it go, though n1 holds it again")
	}
	if err := n1.Depart(ctx, saleID, "roamer"); err != nil {
		t.Fatal(err)
	}
	if !away() {
		t.Fatal("not away once no node holds it")
	}
	if rdb.HExists(ctx, k.Present, "roamer").Val() {
		t.Error("present still counts a shopper no node holds")
	}
	// Back on n2: present again, and no longer away.
	if err := n2.Arrive(ctx, saleID, "roamer"); err != nil {
		t.Fatal(err)
	}
	if away() || rdb.HGet(ctx, k.Present, "roamer").Val() != "1" {
		t.Error("a shopper back on a node is still away, or not counted once")
	}
}
