package app_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/foyerhq/foyer/internal/localservers"
	"github.com/foyerhq/foyer/internal/shopperclient"
	"github.com/foyerhq/foyer/internal/testenv"
	"github.com/foyerhq/foyer/waitingroom"
)

// startNodesOnCluster starts n gateways and a worker on the package's Redis
// Cluster (three primaries with a replica each), emptied for this test, and
// reaches it through FOYER_REDIS_URL's redis+cluster:// form, as an operator
// would.
func startNodesOnCluster(t *testing.T, n int, settings map[string]string) (*system, *localservers.Cluster) {
	t.Helper()
	c := testenv.FreshCluster(t)
	url := "redis+cluster://" + strings.Join(c.Addrs(), ",") + "/"
	return startNodesAt(t, url, testenv.ClusterClient(t, c), n, settings), c
}

func TestThreeHundredShoppersBuyExactlyTheHundredUnitsOnARedisCluster(t *testing.T) {
	sys, _ := startNodesOnCluster(t, 1, nil)
	threeHundredShoppersBuyTheHundredUnits(t, sys)
}

func TestShoppersJoiningThroughThreeNodesAreAdmittedInArrivalOrderOnARedisCluster(t *testing.T) {
	sys, _ := startNodesOnCluster(t, 3, nil)
	shoppersAreAdmittedInArrivalOrder(t, sys)
}

// Fifty sales run at once on the cluster: their keys spread over its three
// primaries (one slot per sale), each sells exactly its stock and no more,
// and no shopper of any sale is left without an answer.
func TestFiftySalesAtOnceSpreadOverTheShardsAndEachSellsExactlyItsStock(t *testing.T) {
	const sales, stock, shoppersPerSale = 50, 3, 5
	sys, c := startNodesOnCluster(t, 2, nil)
	ctx, cancel := context.WithTimeout(t.Context(), 120*time.Second)
	defer cancel()

	ids := make([]string, sales)
	primaries := map[string]int{}
	for i := range ids {
		ids[i] = sys.createSale(t, map[string]any{
			"sku": fmt.Sprintf("C-%d", i), "name": "Cluster", "price_cents": 500, "stock": stock,
			"starts_at": startsIn(time.Minute), "outflow_per_second": 100, "reservation_ttl_seconds": 60,
		})
		p, err := c.PrimaryOf(ctx, waitingroom.Keys(ids[i]).Meta)
		if err != nil {
			t.Fatal(err)
		}
		primaries[p.Addr]++
	}
	if len(primaries) != 3 {
		t.Fatalf("the %d sales are on %d primaries (%v), want all 3", sales, len(primaries), primaries)
	}

	outcomes := make([][]outcome, sales)
	var wg sync.WaitGroup
	for i, id := range ids {
		outcomes[i] = make([]outcome, shoppersPerSale)
		// Shoppers of one sale come through either gateway.
		for j := range shoppersPerSale {
			client := shopperclient.New(sys.URLs[j%len(sys.URLs)])
			wg.Go(func() { outcomes[i][j] = shop(ctx, client, id) })
		}
	}
	sys.startOncePrequeued(t, ctx, shoppersPerSale, ids...)
	wg.Wait()

	for i, id := range ids {
		ordered, soldOut := 0, 0
		for _, o := range outcomes[i] {
			if o.err != nil {
				t.Fatalf("sale %s: %v", id, o.err)
			}
			if o.admissions > 1 {
				t.Errorf("sale %s: shopper %s was admitted %d times", id, o.shopper, o.admissions)
			}
			switch {
			case o.ordered:
				ordered++
			case o.soldOut:
				soldOut++
			}
		}
		if ordered != stock || soldOut != shoppersPerSale-stock {
			t.Errorf("sale %s: %d ordered and %d sold out, want %d and %d", id, ordered, soldOut, stock, shoppersPerSale-stock)
		}
		var rows, distinct, sold int
		if err := sys.DB.Get(&rows, `SELECT count(*) FROM orders WHERE sale_id = $1`, id); err != nil {
			t.Fatal(err)
		}
		if err := sys.DB.Get(&distinct, `SELECT count(DISTINCT shopper_id) FROM orders WHERE sale_id = $1`, id); err != nil {
			t.Fatal(err)
		}
		if err := sys.DB.Get(&sold, `SELECT sold FROM sales WHERE id = $1`, id); err != nil {
			t.Fatal(err)
		}
		redisSold, err := sys.Redis.HGet(ctx, waitingroom.Keys(id).Meta, "sold").Int()
		if err != nil {
			t.Fatal(err)
		}
		if rows != stock || distinct != stock || sold != stock || redisSold != stock {
			t.Errorf("sale %s: %d orders for %d shoppers, sold=%d in postgres and %d in redis; want %d each",
				id, rows, distinct, sold, redisSold, stock)
		}
	}
}
