package waitingroom

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/foyerhq/foyer/internal/testenv"
)

// BenchmarkConfirmWaitingForAReplica puts a number on durability across a
// failover: confirmations on the package's Redis Cluster, answered once the
// sale's primary has them, and once its replica has them too (WAIT 1 on the
// same connection), one at a time (what one shopper waits) and 32 at once
// (as many shoppers checking out at the same moment on a gateway). It
// reports each rate and, with the replica, the ratio to the rate without
// (replicated_ratio): what waiting for the replica costs checkouts.
//
//	go test -run '^$' -bench BenchmarkConfirmWaitingForAReplica -benchtime 5000x ./waitingroom
func BenchmarkConfirmWaitingForAReplica(b *testing.B) {
	rdb := testenv.ClusterClient(b, testenv.Cluster(b))
	for _, workers := range []int{1, 32} {
		var primaryOnly float64
		for _, replicas := range []int{0, 1} {
			name := fmt.Sprintf("workers=%d/replicas=%d", workers, replicas)
			b.Run(name, func(b *testing.B) {
				rate := confirmRate(b, WithReplicas(rdb, replicas, 5*time.Second), workers)
				b.ReportMetric(rate, "confirms/s")
				if replicas == 0 {
					primaryOnly = rate
				} else if primaryOnly > 0 {
					b.ReportMetric(rate/primaryOnly, "replicated_ratio")
				}
			})
		}
	}
}

// confirmRate holds b.N units for b.N shoppers of a fresh sale, then times
// their confirmations, workers at a time, and returns them per second.
func confirmRate(b *testing.B, rdb redis.UniversalClient, workers int) float64 {
	ctx := b.Context()
	saleID := fmt.Sprintf("s_bench_%d", time.Now().UnixNano())
	rooms := NewRooms(rdb)
	p := validPlan()
	p.ID, p.Stock, p.ReservationTTLSeconds = saleID, b.N, 3600
	p.StartsAt, p.EndsAt = time.Now().Add(-time.Minute), time.Now().Add(time.Hour)
	if err := rooms.Load(ctx, &p); err != nil {
		b.Fatal(err)
	}
	shoppers := make([]string, b.N)
	for i := range shoppers {
		shoppers[i] = fmt.Sprintf("v_bench%d", i)
		if _, err := rooms.Join(ctx, saleID, shoppers[i], "t_"+shoppers[i]); err != nil {
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
	for len(held) < b.N {
		more, err := a.Admit(ctx, saleID, s.fence, min(b.N-len(held), 1000))
		if err != nil || len(more) == 0 {
			b.Fatalf("admit: %v (%d held of %d)", err, len(held), b.N)
		}
		held = append(held, more...)
	}

	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for range workers {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < int64(len(held)); i = next.Add(1) - 1 {
				r := held[i]
				if _, err := rooms.Confirm(ctx, saleID, r.Shopper, r.ID, 1, ""); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	return float64(b.N) / elapsed.Seconds()
}
