package waitingroom

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/foyerhq/foyer/internal/testenv"
)

// saleLife walks one sale, sold at the shop's checkout, through the
// scripts of a place and a reservation, each through the code that runs it
// in the product: load, join, leave, find, flag, arrive, depart, evict,
// lease, tick, admit, confirm (a redeem), refund and release. Every step must succeed; the keys each script touches are
// checked by the key guard (keyguard_test.go) and, on a cluster, by Redis.
func saleLife(t *testing.T, rdb redis.UniversalClient, saleID string) {
	t.Helper()
	ctx := t.Context()
	k := Keys(saleID)
	rooms := NewRooms(rdb)
	p := validPlan()
	p.ID, p.Stock = saleID, 3
	p.StartsAt, p.EndsAt = time.Now().Add(-time.Minute), time.Now().Add(time.Hour)
	p.Checkout, p.CheckoutURL = CheckoutShop, "https://shop.example/checkout"
	must := func(step string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
	must("load", rooms.Load(ctx, &p))
	join(t, rooms, saleID, "a", "b", "c", "d", "e")
	_, err := rooms.Leave(ctx, saleID, "e")
	must("leave", err)
	if _, ok, err := rooms.Find(ctx, saleID, "d"); err != nil || !ok {
		t.Fatalf("find: %v (found %v)", err, ok)
	}
	_, err = rooms.Flag(ctx, saleID, "d", "192.0.2.1", []string{"early_join"})
	must("flag", err)

	// a is held by a node that dies, b by one that lives and lets it go.
	dead, live := NewPresence(rdb, "dead-"+saleID), NewPresence(rdb, "live-"+saleID)
	must("set the live node's heartbeat", rdb.Set(ctx, nodeAlive("live-"+saleID), 1, time.Minute).Err())
	must("arrive", dead.Arrive(ctx, saleID, "a"))
	must("arrive", live.Arrive(ctx, saleID, "b"))
	must("depart", live.Depart(ctx, saleID, "b"))
	must("evict", evictDead(ctx, rdb, saleID))
	if n := rdb.ZCard(ctx, k.Away).Val(); n != 2 {
		t.Fatalf("%d shoppers away, want a and b", n)
	}
	must("arrive again", live.ArriveAll(ctx, saleID, []string{"a", "b"}))

	a := NewAdmitter(rdb, "admitter-"+saleID, quietLog())
	fence := lead(t, a, saleID) // lease and tick
	admitted, err := a.Admit(ctx, saleID, fence, 3)
	must("admit", err)
	if len(admitted) != 3 {
		t.Fatalf("admitted %d, want the 3 units", len(admitted))
	}
	held := map[string]string{}
	for _, r := range admitted {
		held[r.Shopper] = r.ID
	}
	c, err := rooms.Redeem(ctx, saleID, "a", held["a"], "digest-a", "order-a", "")
	must("redeem", err)
	if c.Reservation != held["a"] {
		t.Fatalf("confirmed %+v, want a's reservation %s", c, held["a"])
	}
	must("refund", rooms.Refund(ctx, saleID, held["a"], 1))
	_, err = rooms.Release(ctx, saleID, "b", held["b"])
	must("release", err)
	st, err := rooms.Status(ctx, saleID)
	must("status", err)
	if st.Available != 2 || st.Held != 1 {
		t.Errorf("after a refund and a release: %+v, want 2 available and c's unit held", st)
	}
}

func TestASalesWholeLifeRunsOnOneRedis(t *testing.T) {
	saleLife(t, testenv.RedisClient(t, testenv.NewRedis(t)), "s_life")
}

// On a Redis Cluster a script that touched a key of another slot would
// fail (CROSSSLOT, or "Script attempted to access a non local key"), and the
// cluster client routes each script by its first key: sales spread over the
// three primaries each live their whole life.
func TestSalesLiveTheirWholeLifeOnARedisCluster(t *testing.T) {
	c := testenv.Cluster(t)
	rdb := testenv.ClusterClient(t, c)
	primaries := map[string]bool{}
	for i := 0; len(primaries) < 3; i++ {
		if i == 30 {
			t.Fatalf("30 sales landed on %d primaries, want 3", len(primaries))
		}
		saleID := fmt.Sprintf("s_life_%d_%d", time.Now().UnixNano(), i)
		p, err := c.PrimaryOf(t.Context(), Keys(saleID).Meta)
		if err != nil {
			t.Fatal(err)
		}
		if primaries[p.Addr] {
			continue
		}
		primaries[p.Addr] = true
		t.Run(p.Addr, func(t *testing.T) { saleLife(t, rdb, saleID) })
	}
}

// With WithReplicas, a confirmation is answered once the sale's primary's
// replica has it (WAIT on the connection that wrote it); while the replica
// is stalled, or on a Redis with no replica, it fails with ErrNotReplicated
// after the wait, and the write stands: the same request sent again is a
// replay, answered once a replica has it.
func TestAConfirmationWaitsForItsReplicaOrSaysItIsNotReplicated(t *testing.T) {
	ctx := t.Context()
	confirmOne := func(t *testing.T, rdb redis.UniversalClient, saleID string) (Confirmation, error) {
		t.Helper()
		rooms := NewRooms(rdb)
		p := validPlan()
		p.ID, p.Stock = saleID, 1
		p.StartsAt, p.EndsAt = time.Now().Add(-time.Minute), time.Now().Add(time.Hour)
		if err := rooms.Load(ctx, &p); err != nil {
			t.Fatal(err)
		}
		join(t, rooms, saleID, "a")
		a := NewAdmitter(rdb, "admitter", quietLog())
		admitted, err := a.Admit(ctx, saleID, lead(t, a, saleID), 1)
		if err != nil || len(admitted) != 1 {
			t.Fatalf("admit: %v, %d admitted", err, len(admitted))
		}
		return rooms.Confirm(ctx, saleID, "a", admitted[0].ID, 1, "digest")
	}

	t.Run("cluster", func(t *testing.T) {
		rdb := WithReplicas(testenv.ClusterClient(t, testenv.Cluster(t)), 1, 5*time.Second)
		// The pipeline goes to the primary's own client, which the
		// cluster client's hooks never see: it is timed by Timed.
		var timed []string
		rdb.(*Replicated).Timed = func(command string, _ time.Time, err error) {
			timed = append(timed, fmt.Sprint(command, " ", err))
		}
		saleID := fmt.Sprintf("s_wait_%d", time.Now().UnixNano())
		if _, err := confirmOne(t, rdb, saleID); err != nil {
			t.Fatalf("confirm with a replica to wait for: %v", err)
		}
		// A node that has not seen the script yet answers NOSCRIPT, and
		// the pipeline is sent again with it whole: both are timed.
		if len(timed) == 0 || len(timed) > 2 || timed[len(timed)-1] != "pipeline <nil>" {
			t.Errorf("the confirmation's pipeline was timed as %q, want it (and a NOSCRIPT before it, at most) without error", timed)
		}
	})
	t.Run("replica stalled", func(t *testing.T) {
		// The package's cluster: the replica is back, and catches up, before
		// the next test.
		c := testenv.Cluster(t)
		rdb := WithReplicas(testenv.ClusterClient(t, c), 1, 100*time.Millisecond)
		saleID := fmt.Sprintf("s_stall_%d", time.Now().UnixNano())
		resume, err := c.PauseReplicasOf(ctx, Keys(saleID).Meta)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resume() })
		if _, err := confirmOne(t, rdb, saleID); !errors.Is(err, ErrNotReplicated) {
			t.Fatalf("confirm while the replica is stalled: %v, want ErrNotReplicated", err)
		}
		if err := resume(); err != nil {
			t.Fatal(err)
		}
		// The replica, woken, catches up in its own time: the same request
		// is sent again until it has (each try waits up to the timeout).
		id := rdb.HGet(ctx, Keys(saleID).Shoppers, "a").Val()
		var again Confirmation
		for deadline := time.Now().Add(10 * time.Second); ; {
			again, err = NewRooms(rdb).Confirm(ctx, saleID, "a", id, 1, "digest")
			if !errors.Is(err, ErrNotReplicated) || time.Now().After(deadline) {
				break
			}
		}
		if err != nil || !again.Replayed {
			t.Errorf("the same request once the replica is back: %+v (%v), want a replay, replicated", again, err)
		}
	})
	t.Run("no replica", func(t *testing.T) {
		plain := testenv.RedisClient(t, testenv.NewRedis(t))
		rdb := WithReplicas(plain, 1, 20*time.Millisecond)
		_, err := confirmOne(t, rdb, "s_wait")
		if !errors.Is(err, ErrNotReplicated) {
			t.Fatalf("confirm with no replica: %v, want ErrNotReplicated", err)
		}
		id := plain.HGet(ctx, Keys("s_wait").Shoppers, "a").Val()
		again, err := NewRooms(plain).Confirm(context.WithoutCancel(ctx), "s_wait", "a", id, 1, "digest")
		if err != nil || !again.Replayed {
			t.Errorf("the same request again: %+v (%v), want a replay of the confirmation that stood", again, err)
		}
	})
}
