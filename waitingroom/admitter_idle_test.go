package waitingroom

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// roundTrips counts a client's round trips to Redis: each command sent
// alone, and each pipeline whole; not the handshake of a new connection.
type roundTrips struct{ n atomic.Int64 }

func (r *roundTrips) DialHook(next redis.DialHook) redis.DialHook { return next }

func (r *roundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if name := cmd.Name(); name != "hello" && name != "client" { // a new connection's, not the admitter's
			r.n.Add(1)
		}
		return next(ctx, cmd)
	}
}

func (r *roundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if name := cmds[0].Name(); name != "hello" && name != "client" {
			r.n.Add(1)
		}
		return next(ctx, cmds)
	}
}

// countedClient is another client of rdb's Redis, whose round trips are
// counted.
func countedClient(t *testing.T, rdb *redis.Client) (*redis.Client, *roundTrips) {
	t.Helper()
	c := redis.NewClient(rdb.Options())
	t.Cleanup(func() { c.Close() })
	var trips roundTrips
	c.AddHook(&trips)
	return c, &trips
}

// TestAnIdleSaleCostsItsAdmittersFewRoundTrips ticks an open sale with
// nobody waiting, as every node's admitter does all day long, for 2 s of
// 100 ms ticks. The holder of the lease renews it and ticks in one round
// trip, and makes no admission with nobody to let out; the list of active
// sales is read once a second, not every tick; a standby asks for the
// lease every StandbyEvery. Before, each tick cost every node a list read
// and a lease call, and the holder its tick and an admission that let
// nobody out: 81 round trips for the holder and 40 for a standby.
func TestAnIdleSaleCostsItsAdmittersFewRoundTrips(t *testing.T) {
	rdb, _, saleID := openSale(t, 10)
	ctx := t.Context()
	for _, s := range []*redis.Script{leaseScript, tickScript, admitScript} { // as a node that has run a while finds them
		if err := s.Load(ctx, rdb).Err(); err != nil {
			t.Fatal(err)
		}
	}
	holderRDB, holderTrips := countedClient(t, rdb)
	standbyRDB, standbyTrips := countedClient(t, rdb)
	holder, standby := NewAdmitter(holderRDB, "n1", quietLog()), NewAdmitter(standbyRDB, "n2", quietLog())
	start := time.Now()
	const ticks = 20
	for i := range ticks {
		now := start.Add(time.Duration(i) * 100 * time.Millisecond)
		if err := holder.tick(ctx, now); err != nil {
			t.Fatal(err)
		}
		if err := standby.tick(ctx, now); err != nil {
			t.Fatal(err)
		}
	}
	if holder.sales[saleID].fence == "" || standby.sales[saleID].fence != "" {
		t.Fatalf("n1 holds %q and n2 %q: want n1 the holder, n2 a standby", holder.sales[saleID].fence, standby.sales[saleID].fence)
	}
	t.Logf("in %d ticks: the holder %d round trips, the standby %d", ticks, holderTrips.n.Load(), standbyTrips.n.Load())
	// The holder: a round trip a tick, one more where it took the lease
	// (the tick under its new fence), a list read and a look for dead
	// nodes each second.
	if got, most := holderTrips.n.Load(), int64(ticks+1+2+2); got > most {
		t.Errorf("the holder made %d round trips in %d ticks, want at most %d", got, ticks, most)
	}
	// The standby: a list read each second, and the lease asked for every
	// 300 ms (ticks 0, 3, 6, ... 18).
	if got, most := standbyTrips.n.Load(), int64(2+7); got > most {
		t.Errorf("the standby made %d round trips in %d ticks, want at most %d", got, ticks, most)
	}
}

// TestASaleListedAfterTheAdmitterReadTheListIsTickedWithinListEvery: a sale
// made while the admitter keeps the list it read is first ticked (leased,
// and opened) once ListEvery has passed since that read.
func TestASaleListedAfterTheAdmitterReadTheListIsTickedWithinListEvery(t *testing.T) {
	rdb, rooms, first := openSale(t, 10)
	ctx := t.Context()
	a := NewAdmitter(rdb, "n1", quietLog())
	start := time.Now()
	if err := a.tick(ctx, start); err != nil {
		t.Fatal(err)
	}
	p := validPlan()
	p.ID, p.Stock = "s_later", 10
	p.StartsAt, p.EndsAt = time.Now().Add(-time.Minute), time.Now().Add(time.Hour)
	if err := rooms.Load(ctx, &p); err != nil {
		t.Fatal(err)
	}
	leased := func() bool { return rdb.Exists(ctx, Keys(p.ID).Lease).Val() == 1 }
	if err := a.tick(ctx, start.Add(a.ListEvery-time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if leased() {
		t.Fatalf("%s was ticked before the list was read again", p.ID)
	}
	if err := a.tick(ctx, start.Add(a.ListEvery)); err != nil {
		t.Fatal(err)
	}
	if !leased() || a.sales[p.ID] == nil || a.sales[p.ID].fence == "" {
		t.Fatalf("%s was not ticked once the list was read again", p.ID)
	}
	if a.sales[first].fence == "" {
		t.Fatalf("%s lost its admitter", first)
	}
}
