package app_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/foyerhq/foyer/internal/loadgen"
)

// The two sales of BenchmarkAnotherSalesPushesDuringAStorm.
const (
	// stormShoppers arrive at the stormed sale: at most
	// loadgen.MaxShoppersPerProcess sockets fit one process, and the
	// gateway holds them in this one, so they play in stormProcs others.
	stormShoppers = 10000
	stormProcs    = 2
	// calmShoppers wait in the other sale, whose stock changes every
	// calmProbeEvery, each change timed from the admin request to each of
	// them, for stormHoldLead more than the storm's window.
	calmShoppers   = 200
	calmProbeEvery = 200 * time.Millisecond
	stormHoldLead  = 4 * time.Second
)

// BenchmarkAnotherSalesPushesDuringAStorm runs two sales on one gateway.
// The calm sale's 200 waiting shoppers are told of a stock change every
// 200 ms, once with nothing else going on and once while 10,000 shoppers
// storm the other sale (from two player processes). It reports the calm sale's push
// latency both times and their ratio: how much one sale's storm slows
// another's news on the same node. The storm arrives over 5 s (as fast as
// this 2-core machine takes joins, its CPU shared with the players) or
// over 20 s (500 joins a second, well below it); the stormed sale admits
// 100 a second, so its 10,000 are pushed falling positions every second,
// or admits nobody (stalled), so the storm is its joins alone.
//
//	go test -run '^$' -bench AnotherSalesPushesDuringAStorm -benchtime 1x ./internal/app
func BenchmarkAnotherSalesPushesDuringAStorm(b *testing.B) {
	for _, tc := range []struct {
		over    time.Duration
		outflow float64
		ceiling string // the node's FOYER_MAX_JOINS_PER_SECOND; "0", the tests' default, is none
		name    string
	}{
		{5 * time.Second, 100, "0", "over=5s/admitting"},
		{20 * time.Second, 100, "0", "over=20s/admitting"},
		{20 * time.Second, stalled, "0", "over=20s/stalled"},
		// The same storm as the first against the node's ceiling on joins as
		// it ships: past it a join is told busy, and the node keeps the CPU
		// its other sales need.
		{5 * time.Second, 100, "1000", "over=5s/admitting/ceiling=1000"},
	} {
		b.Run(tc.name, func(b *testing.B) { benchmarkStormBeside(b, tc.over, tc.outflow, tc.ceiling) })
	}
}

func benchmarkStormBeside(b *testing.B, over time.Duration, outflow float64, ceiling string) {
	sys := startNodes(b, 1, map[string]string{"FOYER_LOG_LEVEL": "error", "FOYER_MAX_JOINS_PER_SECOND": ceiling})
	hold := over + stormHoldLead
	calm := func(ctx context.Context, saleID string, during func(ctx context.Context)) loadgen.Result {
		res, err := loadgen.Run(ctx, loadgen.Options{
			URLs: []string{sys.URL}, SaleID: saleID, Scenario: loadgen.Hold, Shoppers: calmShoppers,
			Duration: 2 * time.Minute, HoldFor: hold, AdminToken: sys.AdminToken,
			Probe: loadgen.ProbeStock, ProbeEvery: calmProbeEvery, WhileHeld: during,
		})
		if err != nil {
			b.Fatal(err)
		}
		if res.Held != calmShoppers || res.Errors != 0 || res.StockPush.Count == 0 {
			b.Fatalf("the calm sale: held %d, errors %d %v, %d pushes measured", res.Held, res.Errors, res.ErrorCodes, res.StockPush.Count)
		}
		return res
	}
	var quiet, stormy, storm loadgen.Result
	for b.Loop() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		quietSale := sys.createSale(b, map[string]any{"sku": "Q", "name": "Calm alone", "stock": 1000, "outflow_per_second": stalled})
		quiet = calm(ctx, quietSale, nil)

		calmSale := sys.createSale(b, map[string]any{"sku": "C", "name": "Calm", "stock": 1000, "outflow_per_second": stalled})
		stormSale := sys.createSale(b, map[string]any{"sku": "S", "name": "Stormed", "stock": stormShoppers, "outflow_per_second": outflow})
		stormy = calm(ctx, calmSale, func(ctx context.Context) {
			var err error
			storm, err = loadgen.Run(ctx, loadgen.Options{
				URLs: []string{sys.URL}, SaleID: stormSale, Scenario: loadgen.Storm, Shoppers: stormShoppers,
				Duration: hold, Over: over, Procs: stormProcs, Sources: []string{"127.0.0.2", "127.0.0.3"},
				Exec: []string{os.Args[0]}, Env: []string{loadgenPlayerEnv + "=1"},
			})
			if err != nil && ctx.Err() == nil {
				b.Error(err)
			}
		})
		cancel()
	}
	b.Logf("calm sale alone: %d pushes, p50 %v, p99 %v; during the storm: %d pushes, p50 %v, p99 %v",
		quiet.StockPush.Count, quiet.StockPush.P50, quiet.StockPush.P99, stormy.StockPush.Count, stormy.StockPush.P50, stormy.StockPush.P99)
	b.Logf("the storm: %d of %d joined, %.0f joins/s, join p50 %v p99 %v, errors %d %v",
		storm.Joined, stormShoppers, storm.JoinsPerSecond, storm.JoinLatency.P50, storm.JoinLatency.P99, storm.Errors, storm.ErrorCodes)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(quiet.StockPush.P50), "alone-p50-ms")
	b.ReportMetric(ms(quiet.StockPush.P99), "alone-p99-ms")
	b.ReportMetric(ms(stormy.StockPush.P50), "storm-p50-ms")
	b.ReportMetric(ms(stormy.StockPush.P99), "storm-p99-ms")
	b.ReportMetric(ms(stormy.StockPush.P50)/ms(quiet.StockPush.P50), "p50-ratio")
	b.ReportMetric(ms(stormy.StockPush.P99)/ms(quiet.StockPush.P99), "p99-ratio")
	b.ReportMetric(float64(storm.Joined), "storm-joined")
	b.ReportMetric(storm.JoinsPerSecond, "storm-joins/s")
}
