package waitingroom

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/foyerhq/foyer/internal/testenv"
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
// trip, the list of active sales riding along, and makes no admission with
// nobody to let out; a standby asks for the lease every StandbyEvery, the
// list with it. Before, each tick cost every node a list read and a lease
// call, and the holder its tick and an admission that let nobody out: 81
// round trips for the holder and 40 for a standby.
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
	// (the tick under its new fence), and a look for dead nodes each
	// second.
	if got, most := holderTrips.n.Load(), int64(ticks+1+2); got > most {
		t.Errorf("the holder made %d round trips in %d ticks, want at most %d", got, ticks, most)
	}
	// The standby: the first list read alone, then the lease asked for,
	// the list with it, every 300 ms (ticks 1, 4, 7, ... 19).
	if got, most := standbyTrips.n.Load(), int64(1+7); got > most {
		t.Errorf("the standby made %d round trips in %d ticks, want at most %d", got, ticks, most)
	}
}

// TestANewSaleIsTickedWithinListEveryAndATick: a node running no sale
// reads the list of active sales every ListEvery, and ticks a sale found
// there at the tick after; a node holding a sale's lease reads the list
// with each tick's pipeline, so another sale is ticked two ticks after it
// is listed.
func TestANewSaleIsTickedWithinListEveryAndATick(t *testing.T) {
	rdb := testenv.RedisClient(t, testenv.NewRedis(t))
	rooms := NewRooms(rdb)
	ctx := t.Context()
	a := NewAdmitter(rdb, "n1", quietLog())
	leased := func(id string) bool { return a.sales[id] != nil && a.sales[id].fence != "" }
	at := time.Now()
	tick := func(after time.Duration) {
		t.Helper()
		at = at.Add(after)
		if err := a.tick(ctx, at); err != nil {
			t.Fatal(err)
		}
	}
	tick(0) // nothing listed
	loadOpenSale(t, rooms, "s_first", 10, 0)
	tick(a.ListEvery - time.Millisecond)
	if leased("s_first") || rdb.Exists(ctx, Keys("s_first").Lease).Val() == 1 {
		t.Fatal("s_first was ticked before the list was read again")
	}
	tick(time.Millisecond) // ListEvery since the last read: read again
	tick(a.Tick)
	if !leased("s_first") {
		t.Fatal("s_first was not ticked at the tick after the list that named it")
	}
	loadOpenSale(t, rooms, "s_second", 10, 0)
	tick(a.Tick) // the list rides along with s_first's tick
	tick(a.Tick)
	if !leased("s_second") || !leased("s_first") {
		t.Fatalf("two ticks after s_second was listed: s_first leased %v, s_second %v; want both", leased("s_first"), leased("s_second"))
	}
}

// TestOneNodeTicksManySalesInOneRoundTrip: a node holding the leases of
// several sales sends their ticks together, one round trip a tick however
// many there are (besides each sale's look for dead nodes each second),
// where it made one or more per sale.
func TestOneNodeTicksManySalesInOneRoundTrip(t *testing.T) {
	rdb := testenv.RedisClient(t, testenv.NewRedis(t))
	rooms := NewRooms(rdb)
	ctx := t.Context()
	const sales = 5
	for i := range sales {
		loadOpenSale(t, rooms, fmt.Sprintf("s_many%d", i), 10, 0)
	}
	counted, trips := countedClient(t, rdb)
	a := NewAdmitter(counted, "n1", quietLog())
	start := time.Now()
	tickAt := func(i int) {
		t.Helper()
		if err := a.tick(ctx, start.Add(time.Duration(i)*a.Tick)); err != nil {
			t.Fatal(err)
		}
	}
	tickAt(0) // the list
	tickAt(1) // the leases taken, and each sale's first tick under its fence
	for id, s := range a.sales {
		if s.fence == "" {
			t.Fatalf("%s has no admitter", id)
		}
	}
	before := trips.n.Load()
	const ticks = 10 // a second: each sale's look for dead nodes once
	for i := range ticks {
		tickAt(2 + i)
	}
	if got, most := trips.n.Load()-before, int64(ticks+sales); got > most {
		t.Errorf("%d sales held for %d ticks cost %d round trips, want at most %d", sales, ticks, got, most)
	}
}
