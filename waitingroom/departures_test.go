package waitingroom

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/foyerhq/foyer/internal/testenv"
)

// TestANodesDeparturesAreRecordedTogetherAsEachAlone closes the sockets of
// many shoppers on one node at once, as a moving sale does once they have
// paid: their departures are recorded in one script call, and each exactly
// as a departure alone is: a shopper no other node holds is away, one that
// another node holds is not, and the node holds none of them.
func TestANodesDeparturesAreRecordedTogetherAsEachAlone(t *testing.T) {
	rdb, rooms, saleID := openSale(t, 10)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	k := Keys(saleID)
	counted := redis.NewClient(rdb.Options())
	t.Cleanup(func() { counted.Close() })
	calls := &testenv.RedisCalls{Only: []string{"eval", "evalsha"}}
	counted.AddHook(calls)
	const shoppers = 20
	p := NewPresence(counted, "n1")
	p.DepartGather, p.DepartMost = time.Minute, shoppers // the last departure ends the gathering
	other := NewPresence(rdb, "n2")
	ids := make([]string, shoppers)
	for i := range ids {
		ids[i] = fmt.Sprintf("shopper-%d", i)
		join(t, rooms, saleID, ids[i])
		if err := p.Arrive(ctx, saleID, ids[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := other.Arrive(ctx, saleID, ids[0]); err != nil { // a tab of the first on another node
		t.Fatal(err)
	}
	if err := departScript.Load(ctx, rdb).Err(); err != nil { // a NOSCRIPT would count twice
		t.Fatal(err)
	}
	before := calls.Commands()
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Go(func() {
			if err := p.Depart(ctx, saleID, id); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := calls.Commands() - before; n != 1 {
		t.Errorf("%d departures took %d script calls, want 1", shoppers, n)
	}
	if rdb.ZScore(ctx, k.Away, ids[0]).Err() == nil || rdb.HGet(ctx, k.Present, ids[0]).Val() != "1" {
		t.Error("a shopper another node holds is away, or not counted once")
	}
	for _, id := range ids[1:] {
		if rdb.ZScore(ctx, k.Away, id).Err() != nil || rdb.HExists(ctx, k.Present, id).Val() {
			t.Errorf("%s departed but is not away, or is still counted present", id)
		}
	}
	if n := rdb.SCard(ctx, k.Conns("n1")).Val(); n != 0 {
		t.Errorf("the node still holds %d shoppers after they all departed", n)
	}
}

// TestAShopperBackOnItsNodeBeforeItsDepartureIsRecordedNeverLeft closes a
// shopper's socket and opens another on the same node while the departure
// is gathering (a reload): the departure is dropped, so the shopper is not
// away, is counted once, and the node holds it.
func TestAShopperBackOnItsNodeBeforeItsDepartureIsRecordedNeverLeft(t *testing.T) {
	rdb, rooms, saleID := openSale(t, 10)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	k := Keys(saleID)
	join(t, rooms, saleID, "reloader", "leaver")
	p := NewPresence(rdb, "n1")
	p.DepartGather, p.DepartMost = time.Minute, 2 // the second departure ends the gathering
	for _, id := range []string{"reloader", "leaver"} {
		if err := p.Arrive(ctx, saleID, id); err != nil {
			t.Fatal(err)
		}
	}
	departed := make(chan error, 1)
	go func() { departed <- p.Depart(ctx, saleID, "reloader") }()
	for p.departing.Gathering(saleID) == 0 {
		if ctx.Err() != nil {
			t.Fatal("the departure never joined a gathering")
		}
		time.Sleep(time.Millisecond) // polling a condition; the deadline is ctx's
	}
	if _, err := p.ArriveAndJoin(ctx, saleID, "reloader", "txn-reloader", true); err != nil {
		t.Fatal(err)
	}
	if err := p.Depart(ctx, saleID, "leaver"); err != nil {
		t.Fatal(err)
	}
	if err := <-departed; err != nil {
		t.Fatal(err)
	}
	if rdb.ZScore(ctx, k.Away, "reloader").Err() == nil || rdb.HGet(ctx, k.Present, "reloader").Val() != "1" ||
		!rdb.SIsMember(ctx, k.Conns("n1"), "reloader").Val() {
		t.Error("a shopper back on its node before its departure was recorded is away, or not held once")
	}
	if rdb.ZScore(ctx, k.Away, "leaver").Err() != nil {
		t.Error("the shopper who left is not away")
	}
}
