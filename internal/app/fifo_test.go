package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/foyerhq/foyer/waitingroom"
)

// TestShoppersJoiningThroughThreeNodesAreAdmittedInArrivalOrder joins 400
// shoppers one after another, round robin over three gateway nodes, and
// checks that admission, run by whichever node holds the lease, follows
// exactly that order, and that each shopper hears of it on its own node.
func TestShoppersJoiningThroughThreeNodesAreAdmittedInArrivalOrder(t *testing.T) {
	shoppersAreAdmittedInArrivalOrder(t, startNodes(t, 3, nil))
}

// shoppersAreAdmittedInArrivalOrder plays the FIFO test on sys, a system of
// three nodes: on one Redis, and on a Redis Cluster (cluster_test.go).
func shoppersAreAdmittedInArrivalOrder(t *testing.T, sys *system) {
	// 400, not the 1,000 it once was: admission at 400/s lets each tick's
	// batch out while later shoppers still arrive on every node, which is
	// what the order is checked against; the other 600 only made it take
	// over a minute in a busy suite.
	const shoppers = 400
	saleID := sys.createSale(t, map[string]any{"sku": "F-1", "name": "FIFO", "stock": shoppers,
		"outflow_per_second": 400})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	order := make([]string, shoppers)
	inboxes := make([]*inbox, shoppers)
	for i := range shoppers {
		conn, sess := connectNew(t, ctx, sys.URLs[i%3], saleID)
		in := listen(conn)
		if _, err := in.wait(ctx, "welcome"); err != nil {
			t.Fatal(err)
		}
		// The join is in once the shopper is answered: the next one must
		// arrive after it. Its place is told by position, or by admitted.
		if err := conn.Join(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := in.waitAny(ctx, "position", "admitted"); err != nil {
			t.Fatal(err)
		}
		order[i], inboxes[i] = sess.ShopperID, in
	}
	for i, in := range inboxes {
		if _, err := in.wait(ctx, "admitted"); err != nil {
			t.Fatalf("shopper %d: %v", i, err)
		}
	}

	// The event stream is the record of admission, in the order it happened.
	entries, err := sys.Redis.XRange(ctx, waitingroom.Keys(saleID).Events, "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	rooms := waitingroom.NewRooms(sys.Redis)
	events, err := rooms.Events(ctx, saleID, "0-0", 0, int64(len(entries)))
	if err != nil {
		t.Fatal(err)
	}
	var admitted []string
	for _, e := range events {
		for _, r := range e.Admitted {
			admitted = append(admitted, r.Shopper)
		}
	}
	if len(admitted) != shoppers {
		t.Fatalf("%d admissions, want %d", len(admitted), shoppers)
	}
	for i := range order {
		if admitted[i] != order[i] {
			t.Fatalf("admission %d went to %s, but %s arrived %dth", i+1, admitted[i], order[i], i+1)
		}
	}
}
