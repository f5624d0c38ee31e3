package waitingroom

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/foyerhq/foyer/internal/testenv"
)

// burstWorkers is how many checkouts of a sale are in flight at once on a
// gateway as a tick's admitted shoppers check out: 1,000 a second over two
// gateways is 50 a tick each.
const burstWorkers = 50

// BenchmarkConfirmBurst puts a number on gathering a sale's confirmations:
// burstWorkers goroutines confirm b.N held reservations, each confirmation
// in its own round trip (as before: runDurable with one), then gathered in
// the sale's line (Rooms.Confirm), alternated twice on the same Redis. It
// reports each one's rate and its CPU per confirmation, this process's
// and Redis's, and for the gathered one the ratios to the one before it
// (cpu_ratio, rate_ratio).
//
//	go test -run '^$' -bench BenchmarkConfirmBurst -benchtime 20000x ./waitingroom
func BenchmarkConfirmBurst(b *testing.B) {
	rdb := testenv.RedisClient(b, testenv.NewRedis(b))
	for round := 1; round <= 2; round++ {
		var alone confirmCost
		for _, gathered := range []bool{false, true} {
			b.Run(fmt.Sprintf("round=%d/gathered=%v", round, gathered), func(b *testing.B) {
				cost := confirmBurst(b, rdb, gathered)
				b.ReportMetric(cost.rate, "confirms/s")
				b.ReportMetric(cost.cpu, "cpu_µs/confirm")
				if !gathered {
					alone = cost
				} else if alone.rate > 0 {
					b.ReportMetric(cost.cpu/alone.cpu, "cpu_ratio")
					b.ReportMetric(cost.rate/alone.rate, "rate_ratio")
				}
			})
		}
	}
}

// confirmCost is a run's confirmations a second and CPU per confirmation
// in µs, this process's and Redis's.
type confirmCost struct{ rate, cpu float64 }

// confirmBurst holds b.N units of a fresh sale for b.N shoppers and times
// their confirmations, burstWorkers at a time, one round trip each or
// gathered.
func confirmBurst(b *testing.B, rdb *redis.Client, gathered bool) confirmCost {
	ctx := b.Context()
	rooms, saleID, held := heldSale(b, rdb, b.N)
	k := Keys(saleID)
	keys := []string{k.Meta, k.Res, k.Batches, k.Outbox, k.Events, k.Shoppers, k.Journeys, k.Bought, k.Customers}
	cpuBefore, redisBefore := processCPU(), redisUsedCPU(b, rdb)
	elapsed := timeConfirms(b, burstWorkers, held, func(r Reservation) error {
		if gathered {
			_, err := rooms.Confirm(ctx, saleID, r.Shopper, r.ID, 1, "")
			return err
		}
		ran, err := runDurable(ctx, rdb, confirmScript, keys, [][]any{{r.ID, r.Shopper, EventsMaxLen, 1, "", "", ""}})
		if err != nil {
			return err
		}
		return ran[0].Err()
	})
	used := processCPU() - cpuBefore + redisUsedCPU(b, rdb) - redisBefore
	if st, err := rooms.Status(ctx, saleID); err != nil || st.Sold != int64(b.N) {
		b.Fatalf("sold %d of %d (%v)", st.Sold, b.N, err)
	}
	return confirmCost{
		rate: float64(b.N) / elapsed.Seconds(),
		cpu:  float64(used.Microseconds()) / float64(b.N),
	}
}

// heldSale loads a fresh open sale of n units, joins n shoppers and admits
// them all.
func heldSale(b *testing.B, rdb redis.UniversalClient, n int) (*Rooms, string, []Reservation) {
	ctx := b.Context()
	saleID := fmt.Sprintf("s_bench_%d", time.Now().UnixNano())
	rooms := NewRooms(rdb)
	p := validPlan()
	p.ID, p.Stock, p.ReservationTTLSeconds = saleID, n, 3600
	p.StartsAt, p.EndsAt = time.Now().Add(-time.Minute), time.Now().Add(time.Hour)
	if err := rooms.Load(ctx, &p); err != nil {
		b.Fatal(err)
	}
	for i := range n {
		shopper := fmt.Sprintf("v_bench%d", i)
		if _, err := rooms.Join(ctx, saleID, shopper, "t_"+shopper); err != nil {
			b.Fatal(err)
		}
	}
	a := NewAdmitter(rdb, "bench", quietLog())
	s := &admission{last: time.Now()}
	a.sales[saleID] = s
	if err := a.runSale(ctx, saleID, s, time.Now()); err != nil {
		b.Fatal(err)
	}
	var held []Reservation
	for len(held) < n {
		more, err := a.Admit(ctx, saleID, s.fence, min(n-len(held), 1000))
		if err != nil || len(more) == 0 {
			b.Fatalf("admit: %v (%d held of %d)", err, len(held), n)
		}
		held = append(held, more...)
	}
	return rooms, saleID, held
}

// timeConfirms times confirm of every one of held, workers at a time: the
// benchmark's timer runs for them alone.
func timeConfirms(b *testing.B, workers int, held []Reservation, confirm func(Reservation) error) time.Duration {
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for range workers {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < int64(len(held)); i = next.Add(1) - 1 {
				if err := confirm(held[i]); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	return elapsed
}

// processCPU is the CPU this process has used, user and system.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// redisUsedCPU is the CPU Redis has used since it started (INFO cpu).
func redisUsedCPU(b *testing.B, rdb *redis.Client) time.Duration {
	info, err := rdb.Info(context.Background(), "cpu").Result()
	if err != nil {
		b.Fatal(err)
	}
	var total float64
	for line := range strings.SplitSeq(info, "\r\n") {
		name, value, ok := strings.Cut(line, ":")
		if ok && (name == "used_cpu_sys" || name == "used_cpu_user") {
			v, err := strconv.ParseFloat(value, 64)
			if err != nil {
				b.Fatal(err)
			}
			total += v
		}
	}
	return time.Duration(total * float64(time.Second))
}
