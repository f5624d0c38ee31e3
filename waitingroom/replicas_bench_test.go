package waitingroom

import (
	"fmt"
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
	rooms, saleID, held := heldSale(b, rdb, b.N)
	elapsed := timeConfirms(b, workers, held, func(r Reservation) error {
		_, err := rooms.Confirm(b.Context(), saleID, r.Shopper, r.ID, 1, "")
		return err
	})
	return float64(b.N) / elapsed.Seconds()
}
