package waitingroom

import (
	"context"
	"fmt"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/foyerhq/foyer/internal/testenv"
)

// fillQueue puts n shoppers in the sale's queue, ten thousand per command.
func fillQueue(b *testing.B, rdb *redis.Client, saleID string, n int) {
	b.Helper()
	k := Keys(saleID)
	for start := 0; start < n; start += 10000 {
		members := make([]redis.Z, 0, 10000)
		for i := start; i < min(start+10000, n); i++ {
			members = append(members, redis.Z{Score: float64(i + 1), Member: fmt.Sprintf("shopper-%07d", i)})
		}
		if err := rdb.ZAdd(context.Background(), k.Queue, members...).Err(); err != nil {
			b.Fatal(err)
		}
	}
	if err := rdb.HSet(context.Background(), k.Meta, "seq", n).Err(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkUpdateTick is one node's push tick for one sale: read the sale's
// counters, read new events, and compute the positions of the node's own
// thousand shoppers. Its Redis cost must not grow with the queue: compare
// redis-calls/tick across the sizes.
func BenchmarkUpdateTick(b *testing.B) {
	for _, waiting := range []int{10_000, 100_000, 1_000_000} {
		b.Run(fmt.Sprintf("waiting=%d", waiting), func(b *testing.B) {
			rdb := testenv.RedisClient(b, testenv.NewRedis(b))
			rooms := NewRooms(rdb)
			p := validPlan()
			p.ID = "s_bench"
			if err := rooms.Load(context.Background(), &p); err != nil {
				b.Fatal(err)
			}
			fillQueue(b, rdb, p.ID, waiting)
			view, err := rooms.View(context.Background(), p.ID)
			if err != nil {
				b.Fatal(err)
			}
			positions := NewPositions(view)
			local := make([]int64, 1000) // this node's shoppers: every n-th ticket
			for i := range local {
				local[i] = int64(i*waiting/len(local) + 1)
			}
			var calls testenv.RedisCalls
			rdb.AddHook(&calls)
			ctx := context.Background()
			b.ResetTimer()
			var sum int64
			for b.Loop() {
				st, err := rooms.Status(ctx, p.ID)
				if err != nil {
					b.Fatal(err)
				}
				events, err := rooms.Events(ctx, p.ID, view.LastID, -1, 1000)
				if err != nil {
					b.Fatal(err)
				}
				for _, e := range events {
					positions.Admitted(e.Mark)
				}
				for _, t := range local {
					sum += positions.Of(t)
				}
				sum += st.Waiting
			}
			b.ReportMetric(float64(calls.Trips())/float64(b.N), "redis-trips/tick")
			b.ReportMetric(float64(calls.Commands())/float64(b.N), "redis-cmds/tick")
			if sum == 0 {
				b.Fatal("nothing computed")
			}
		})
	}
}
