package waitingroom

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/foyerhq/foyer/internal/testenv"
)

// The hot-path benchmarks put a number on what Foyer's scripts cost over the
// least any waiting room must ask of Redis: each times Foyer's real path and
// a bare go-redis baseline doing the same job, on the same Redis server and
// the same client, in the same run, and reports the ratio of the two rates.
// A ratio near 1 says Redis itself is the limit; a low one says Foyer's own
// bookkeeping is.

const (
	// joinShoppers is how many distinct shoppers join once each.
	joinShoppers = 20_000
	// joinWorkers is how many joins are in flight at once, as many sockets
	// joining at the same moment would make them on a gateway.
	joinWorkers = 64
	// admissionWaiting is how many shoppers wait when admission begins.
	admissionWaiting = 100_000
	// admissionBatch is how many shoppers one admission lets out: the
	// admitter's default MaxAdmitPerTick.
	admissionBatch = 1000
)

// bareJoinScript is the least one join can be: the next ticket of a counter,
// and the shopper in the queue at that ticket. The ZADD needs the INCR's
// reply, so without a script it takes two round trips, or a MULTI that can
// not use the reply at all; one EVALSHA is one round trip and atomic.
var bareJoinScript = redis.NewScript(`
local ticket = redis.call('INCR', KEYS[1])
redis.call('ZADD', KEYS[2], ticket, ARGV[1])
return ticket`)

// bareAdmitScript is the least one admission can be: pop the head of the
// queue, write one expiring hold per shopper, take the units out of stock.
// The holds' keys carry the queue's hash tag, so it stays in one slot.
// KEYS: queue, stock; ARGV[1] most to admit, ARGV[2] hold ttl ms, ARGV[3] prefix of the holds' keys
var bareAdmitScript = redis.NewScript(`
local popped = redis.call('ZPOPMIN', KEYS[1], ARGV[1])
for i = 1, #popped, 2 do
  redis.call('SET', ARGV[3] .. popped[i], popped[i + 1], 'PX', ARGV[2])
end
local n = #popped / 2
redis.call('DECRBY', KEYS[2], n)
return n`)

// BenchmarkJoin compares Foyer's join (Rooms.Join on an open sale, as the
// gateway calls it) with a bare join, both from joinWorkers goroutines for
// joinShoppers distinct shoppers. The bare join is one EVALSHA of INCR+ZADD
// per shopper (see bareJoinScript): one round trip and two writes is the
// least an atomic, ordered join can cost, so its rate is the ceiling of this
// stack for joins sent one by one. Rooms.Join sends each alone; a
// gateway's arrivals go through Presence.ArriveAndJoin, which gathers
// those asked while one is on its way into one round trip.
func BenchmarkJoin(b *testing.B) {
	rdb := testenv.RedisClient(b, testenv.NewRedis(b))
	rooms := NewRooms(rdb)
	ctx := context.Background()
	shoppers := make([]string, joinShoppers)
	txns := make([]string, joinShoppers)
	for i := range shoppers {
		shoppers[i] = fmt.Sprintf("shopper-%07d", i)
		txns[i] = "t_" + strings.ToLower(rand.Text())
	}
	var foyer, bare time.Duration
	run := 0
	for b.Loop() {
		b.StopTimer()
		run++
		saleID := fmt.Sprintf("s_join%d", run)
		prepare(b, rdb, joinScript, bareJoinScript)
		loadOpenSale(b, rooms, saleID, 1000, 10)
		b.StartTimer()
		foyer += timeConcurrently(b, joinWorkers, joinShoppers, func(i int) error {
			_, err := rooms.Join(ctx, saleID, shoppers[i], txns[i])
			return err
		})
		b.StopTimer()
		expectCard(b, rdb, Keys(saleID).Queue, joinShoppers)

		prepare(b, rdb, joinScript, bareJoinScript)
		seq, queue := "bare:{"+saleID+"}:seq", "bare:{"+saleID+"}:queue"
		b.StartTimer()
		bare += timeConcurrently(b, joinWorkers, joinShoppers, func(i int) error {
			return bareJoinScript.EvalSha(ctx, rdb, []string{seq, queue}, shoppers[i]).Err()
		})
		b.StopTimer()
		expectCard(b, rdb, queue, joinShoppers)
		b.StartTimer()
	}
	reportRatio(b, "joins/s", float64(b.N*joinShoppers), foyer, bare)
}

// BenchmarkAdmission compares Foyer's admission (the admitter's tick for one
// sale: lease renewal, tick.lua's housekeeping and admit.lua, as Run does
// it) with a bare admission, both letting admissionWaiting shoppers out
// admissionBatch at a time, with stock for all and a rate no tick can use up.
// The bare admission is bareAdmitScript called back to back in one pipeline:
// ZPOPMIN, one SET PX per shopper and a DECRBY is the least a hold can be,
// and pipelining takes the round trips out, so its rate is the ceiling of
// this stack. Both rates count only the time of the admissions themselves.
func BenchmarkAdmission(b *testing.B) {
	rdb := testenv.RedisClient(b, testenv.NewRedis(b))
	rooms := NewRooms(rdb)
	ctx := context.Background()
	var foyer, bare time.Duration
	run := 0
	for b.Loop() {
		b.StopTimer()
		run++
		saleID := fmt.Sprintf("s_admit%d", run)
		prepare(b, rdb, joinScript, leaseScript, tickScript, admitScript, bareAdmitScript)
		// A rate far above what a tick can admit, so every tick after the
		// first is owed more than MaxAdmitPerTick.
		loadOpenSale(b, rooms, saleID, 2*admissionWaiting, 1e9)
		joinAll(b, rdb, saleID, admissionWaiting)
		a := NewAdmitter(rdb, "bench", quietLog())
		a.MaxAdmitPerTick = admissionBatch
		s := &admission{last: time.Now()}
		// The first tick takes the lease and admits nobody: the allowance
		// of a new admitter starts at zero.
		if err := a.runSale(ctx, saleID, s, time.Now()); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		began := time.Now()
		for range admissionWaiting / admissionBatch {
			if err := a.runSale(ctx, saleID, s, time.Now()); err != nil {
				b.Fatal(err)
			}
		}
		foyer += time.Since(began)
		b.StopTimer()
		if st, err := rooms.Status(ctx, saleID); err != nil || st.Held != admissionWaiting || st.Waiting != 0 {
			b.Fatalf("held %d, waiting %d (err %v); want %d held, none waiting", st.Held, st.Waiting, err, admissionWaiting)
		}

		prepare(b, rdb, bareAdmitScript)
		queue, stock, holds := "bare:{"+saleID+"}:queue", "bare:{"+saleID+"}:stock", "bare:{"+saleID+"}:hold:"
		fillBareQueue(b, rdb, queue, admissionWaiting)
		rdb.Set(ctx, stock, 2*admissionWaiting, 0)
		b.StartTimer()
		began = time.Now()
		cmds, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for range admissionWaiting / admissionBatch {
				bareAdmitScript.EvalSha(ctx, p, []string{queue, stock}, admissionBatch, 300_000, holds)
			}
			return nil
		})
		bare += time.Since(began)
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		admitted := int64(0)
		for _, c := range cmds {
			admitted += c.(*redis.Cmd).Val().(int64)
		}
		if admitted != admissionWaiting {
			b.Fatalf("bare admission let %d out, want %d", admitted, admissionWaiting)
		}
		b.StartTimer()
	}
	reportRatio(b, "admitted/s", float64(b.N*admissionWaiting), foyer, bare)
}

// prepare empties the server and loads the scripts, so each side starts from
// the same empty Redis, and warms the client's pool of connections, so
// neither side pays for dialling.
func prepare(b *testing.B, rdb *redis.Client, scripts ...*redis.Script) {
	b.Helper()
	ctx := context.Background()
	if err := rdb.FlushAll(ctx).Err(); err != nil {
		b.Fatal(err)
	}
	for _, s := range scripts {
		if err := s.Load(ctx, rdb).Err(); err != nil {
			b.Fatal(err)
		}
	}
	timeConcurrently(b, joinWorkers, joinWorkers, func(int) error { return rdb.Ping(ctx).Err() })
}

// loadOpenSale loads a sale that is already open, with stock units and an
// outflow of rate shoppers a second (0: the plan's own).
func loadOpenSale(tb testing.TB, rooms *Rooms, saleID string, stock int, rate float64) {
	tb.Helper()
	p := validPlan()
	p.ID, p.Stock = saleID, stock
	if rate > 0 {
		p.OutflowPerSecond = rate
	}
	p.StartsAt, p.EndsAt = time.Now().Add(-time.Minute), time.Now().Add(time.Hour)
	if err := rooms.Load(context.Background(), &p); err != nil {
		tb.Fatal(err)
	}
}

// timeConcurrently calls do once for every i in [0, n) from workers
// goroutines and returns how long that took.
func timeConcurrently(b *testing.B, workers, n int, do func(i int) error) time.Duration {
	b.Helper()
	var next atomic.Int64
	var failed atomic.Pointer[error]
	var wg sync.WaitGroup
	began := time.Now()
	for range workers {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n && failed.Load() == nil; i = int(next.Add(1)) - 1 {
				if err := do(i); err != nil {
					failed.CompareAndSwap(nil, &err)
				}
			}
		})
	}
	wg.Wait()
	took := time.Since(began)
	if err := failed.Load(); err != nil {
		b.Fatal(*err)
	}
	return took
}

// joinAll joins n shoppers to the sale with the real join script, a thousand
// per round trip.
func joinAll(b *testing.B, rdb *redis.Client, saleID string, n int) {
	b.Helper()
	ctx := context.Background()
	keys := joinScriptKeys(saleID)
	for start := 0; start < n; start += 1000 {
		_, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i := start; i < min(start+1000, n); i++ {
				joinScript.EvalSha(ctx, p, keys, append([]any{fmt.Sprintf("shopper-%07d", i), "t_" + strings.ToLower(rand.Text())}, passArgs(Pass{})...)...)
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// fillBareQueue puts the same n shoppers as joinAll in a bare queue.
func fillBareQueue(b *testing.B, rdb *redis.Client, queue string, n int) {
	b.Helper()
	for start := 0; start < n; start += 10000 {
		members := make([]redis.Z, 0, 10000)
		for i := start; i < min(start+10000, n); i++ {
			members = append(members, redis.Z{Score: float64(i + 1), Member: fmt.Sprintf("shopper-%07d", i)})
		}
		if err := rdb.ZAdd(context.Background(), queue, members...).Err(); err != nil {
			b.Fatal(err)
		}
	}
}

// expectCard fails the benchmark unless the sorted set holds want members.
func expectCard(b *testing.B, rdb *redis.Client, key string, want int64) {
	b.Helper()
	if n, err := rdb.ZCard(context.Background(), key).Result(); err != nil || n != want {
		b.Fatalf("%s holds %d (err %v), want %d", key, n, err, want)
	}
}

// reportRatio reports Foyer's rate, the baseline's and Foyer's as a share of
// the baseline's, for count units done by each side.
func reportRatio(b *testing.B, unit string, count float64, foyer, bare time.Duration) {
	b.Helper()
	foyerRate, bareRate := count/foyer.Seconds(), count/bare.Seconds()
	b.ReportMetric(foyerRate, unit)
	b.ReportMetric(bareRate, "baseline-"+unit)
	b.ReportMetric(foyerRate/bareRate, "ratio")
}
