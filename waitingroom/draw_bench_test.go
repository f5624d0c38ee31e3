package waitingroom

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/foyerhq/foyer/internal/testenv"
)

// BenchmarkDraw measures the prequeue draw at the start: ticks that hand
// out tickets to every prequeue shopper, a chunk each. Redis serves nothing
// else while a tick's script runs, so max-tick-ms is how long the sale's
// start can stall Redis; ns/op is how long until admission may begin.
func BenchmarkDraw(b *testing.B) {
	for _, size := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("prequeue=%d", size), func(b *testing.B) {
			rdb := testenv.RedisClient(b, testenv.NewRedis(b))
			rooms := NewRooms(rdb)
			ctx := context.Background()
			var longest time.Duration
			run := 0
			for b.Loop() {
				b.StopTimer()
				run++
				saleID := fillPrequeue(b, rdb, rooms, fmt.Sprintf("s_draw%d", run), size)
				a := NewAdmitter(rdb, "bench", quietLog())
				s := &admission{last: time.Now()}
				b.StartTimer()
				for {
					began := time.Now()
					if err := a.runSale(ctx, saleID, s, time.Now()); err != nil {
						b.Fatal(err)
					}
					longest = max(longest, time.Since(began))
					if drawing, _ := rdb.HExists(ctx, Keys(saleID).Meta, "drawing").Result(); !drawing {
						break
					}
				}
				b.StopTimer()
				if n, _ := rdb.ZCard(ctx, Keys(saleID).Queue).Result(); n != int64(size) {
					b.Fatalf("drew %d of %d", n, size)
				}
				rdb.FlushAll(ctx)
				b.StartTimer()
			}
			b.ReportMetric(float64(longest.Microseconds())/1000, "max-tick-ms")
		})
	}
}

// fillPrequeue loads a sale in its prequeue, joins size shoppers with the
// real join script, and moves the start to now.
func fillPrequeue(b *testing.B, rdb *redis.Client, rooms *Rooms, saleID string, size int) string {
	b.Helper()
	ctx := context.Background()
	p := validPlan()
	p.ID = saleID
	p.StartsAt, p.EndsAt, p.PrequeueSeconds = time.Now().Add(time.Hour), time.Now().Add(2*time.Hour), 7200
	// Nobody is admitted meanwhile, so the queue holds every drawn shopper.
	p.OutflowPerSecond = 0.001
	if err := rooms.Load(ctx, &p); err != nil {
		b.Fatal(err)
	}
	if err := joinScript.Load(ctx, rdb).Err(); err != nil {
		b.Fatal(err)
	}
	k := Keys(saleID)
	keys := joinScriptKeys(saleID)
	for start := 0; start < size; start += 1000 {
		_, err := rdb.Pipelined(ctx, func(pl redis.Pipeliner) error {
			for i := start; i < min(start+1000, size); i++ {
				joinScript.Run(ctx, pl, keys, append([]any{fmt.Sprintf("shopper-%07d", i), "t"}, passArgs(Pass{})...)...)
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	rdb.HSet(ctx, k.Meta, "starts_at_ms", time.Now().UnixMilli())
	return saleID
}
