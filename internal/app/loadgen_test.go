package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/foyerhq/foyer/internal/loadgen"
)

func TestLoadgenSaleSellsEveryUnitOnceAndTellsTheRestSoldOut(t *testing.T) {
	sys := startSystem(t)
	saleID := sys.createSale(t, map[string]any{"sku": "L", "name": "Load", "stock": 20, "outflow_per_second": 100})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)

	res, err := loadgen.Run(ctx, loadgen.Options{
		URLs: []string{sys.URL}, SaleID: saleID, Scenario: loadgen.Sale, Shoppers: 60, Duration: 60 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", res)
	if res.Paid != 20 || res.SoldOut != 40 || res.Errors != 0 {
		t.Errorf("paid %d, sold out %d, errors %d %v; want 20, 40, 0", res.Paid, res.SoldOut, res.Errors, res.ErrorCodes)
	}
	// A shopper whose join comes after the last unit sold is answered with
	// the error sold_out rather than a place, so not every join counts.
	if res.Admitted != 20 || res.Connected != 60 || res.Joined < 20 {
		t.Errorf("admitted %d, connected %d, joined %d; want 20, 60, at least 20", res.Admitted, res.Connected, res.Joined)
	}
	if n := sys.countOrders(t, saleID); n != 20 {
		t.Errorf("%d order rows in Postgres, want 20", n)
	}
	for name, l := range map[string]loadgen.LatencySummary{"join": res.JoinLatency, "admission to paid order": res.AdmitToPaid} {
		if l.P50 <= 0 || l.P50 > l.P99 || l.P99 > l.Max {
			t.Errorf("%s latency p50 %v, p99 %v, max %v: want 0 < p50 <= p99 <= max", name, l.P50, l.P99, l.Max)
		}
	}
	if res.OrdersPerSecond <= 0 {
		t.Errorf("orders per second %v", res.OrdersPerSecond)
	}
	// Every admitted shopper measured the push from the admitter's tick.
	if a := res.AdmitPush; a.Count != 20 || a.P50 < 0 || a.P50 > a.P99 || a.P99 > a.Max {
		t.Errorf("admit push latency %+v: want 20 measured, ordered percentiles", a)
	}
}

func TestLoadgenHoldKeepsEveryShopperConnected(t *testing.T) {
	sys := startSystem(t)
	saleID := sys.createSale(t, map[string]any{"sku": "L", "name": "Load", "stock": 20, "outflow_per_second": 100})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)

	res, err := loadgen.Run(ctx, loadgen.Options{
		URLs: []string{sys.URL}, SaleID: saleID, Scenario: loadgen.Hold, Shoppers: 50, Duration: 2 * time.Second,
		AdminToken: sys.AdminToken, ProbeEvery: 300 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Held != 50 || res.Connected != 50 || res.Errors != 0 {
		t.Errorf("held %d, connected %d, errors %d %v; want 50, 50, 0", res.Held, res.Connected, res.Errors, res.ErrorCodes)
	}
	// A probe sent once all 50 were connected reaches each of them; the last
	// one may be cut short by the end of the run.
	p := res.PushLatency
	if p.Count < 50 || p.P50 <= 0 || p.P50 > p.P99 || p.P99 > p.Max {
		t.Errorf("push latency %+v: want at least a round of 50 shoppers and ordered percentiles", p)
	}
	t.Logf("operator broadcasts reached 50 shoppers: %d measured, p50 %v, p99 %v", p.Count, p.P50, p.P99)
}

func TestLoadgenCommandStormsAndWritesTableAndJSON(t *testing.T) {
	sys := startSystem(t)
	saleID := sys.createSale(t, map[string]any{"sku": "L", "name": "Load", "stock": 20, "outflow_per_second": 100})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	jsonPath := filepath.Join(t.TempDir(), "out.json")

	var out bytes.Buffer
	err := loadgen.Main(ctx, []string{"-url", sys.URL + "," + sys.URL, "-sale", saleID, "-scenario", "storm",
		"-shoppers", "30", "-over", "300ms", "-duration", "20s", "-json", jsonPath}, &out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "joins_per_second") || !strings.Contains(out.String(), "join_latency_p99") {
		t.Errorf("table lacks the storm's numbers:\n%s", out.String())
	}
	t.Logf("table:\n%s", out.String())
	raw, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Joined      int64   `json:"joined"`
		Errors      int64   `json:"errors"`
		JoinsPerSec float64 `json:"joins_per_second"`
		JoinLatency struct {
			P50 float64 `json:"p50_ms"`
		} `json:"join_latency"`
	}
	if err := json.Unmarshal(raw, &res); err != nil {
		t.Fatal(err)
	}
	if res.Joined != 30 || res.Errors != 0 || res.JoinsPerSec <= 0 || res.JoinLatency.P50 <= 0 {
		t.Errorf("storm results %s", raw)
	}
}

// loadgenPlayerEnv turns this test binary into a load generator's player
// process: the multi-process test runs its players this way.
const loadgenPlayerEnv = "FOYER_TEST_LOADGEN_PLAYER"

func runLoadgenPlayer() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := loadgen.Main(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen player:", err)
		return 1
	}
	return 0
}

func TestLoadgenSpreadsShoppersOverProcessesNodesAndSourceAddresses(t *testing.T) {
	sys := startNodes(t, 2, nil)
	saleID := sys.createSale(t, map[string]any{"sku": "L", "name": "Load", "stock": 5, "outflow_per_second": 0.001})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)

	res, err := loadgen.Run(ctx, loadgen.Options{
		URLs: sys.URLs, MetricsURLs: sys.OpsURLs, SaleID: saleID, Scenario: loadgen.Hold, Shoppers: 60, Duration: 5 * time.Second,
		Procs: 3, Sources: []string{"127.0.0.2", "127.0.0.3", "127.0.0.4"},
		Exec: []string{os.Args[0]}, Env: []string{loadgenPlayerEnv + "=1"},
		AdminToken: sys.AdminToken, Probe: loadgen.ProbeStock, ProbeEvery: 500 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Procs != 3 || res.Held != 60 || res.Connected != 60 || res.Errors != 0 {
		t.Errorf("processes %d, held %d, connected %d, errors %d %v; want 3, 60, 60, 0",
			res.Procs, res.Held, res.Connected, res.Errors, res.ErrorCodes)
	}
	// Each stock probe reached all 60 shoppers of the three processes.
	if p := res.StockPush; p.Count < 60 || p.Count%60 != 0 || p.P50 <= 0 || p.P50 > p.P99 || p.P99 > p.Max {
		t.Errorf("stock push %+v: want whole rounds of 60 and ordered percentiles", p)
	}
	// Both nodes served shoppers, and the run read what holding them cost.
	if g := res.GatewayHeld; g.Connections != 60 || g.Goroutines <= res.GatewayBefore.Goroutines {
		t.Errorf("gateways held %v connections with %v goroutines (%v before); want 60 and more goroutines",
			g.Connections, g.Goroutines, res.GatewayBefore.Goroutines)
	}
	t.Logf("stock change reached 60 shoppers over 3 processes: %d measured, p50 %v, p99 %v",
		res.StockPush.Count, res.StockPush.P50, res.StockPush.P99)
}

func TestLoadgenSlowReadersDoNotHoldUpTheOthers(t *testing.T) {
	sys := startSystem(t)
	saleID := sys.createSale(t, map[string]any{"sku": "L", "name": "Load", "stock": 5, "outflow_per_second": 0.001})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)

	res, err := loadgen.Run(ctx, loadgen.Options{
		URLs: []string{sys.URL}, SaleID: saleID, Scenario: loadgen.Slow, Shoppers: 40, Duration: 4 * time.Second,
		SlowShare: 0.25, SlowDelay: 300 * time.Millisecond,
		AdminToken: sys.AdminToken, ProbeEvery: 400 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Held != 40 || res.Errors != 0 {
		t.Errorf("held %d, errors %d %v; want 40, 0", res.Held, res.Errors, res.ErrorCodes)
	}
	// The slow quarter hears the probes too, only later; the others are
	// measured apart.
	if res.PushLatency.Count == 0 || res.SlowPushLatency.Count == 0 {
		t.Errorf("push latency measured %d fast, %d slow; want both", res.PushLatency.Count, res.SlowPushLatency.Count)
	}
	t.Logf("fast readers p50 %v p99 %v; slow readers p50 %v p99 %v", res.PushLatency.P50, res.PushLatency.P99,
		res.SlowPushLatency.P50, res.SlowPushLatency.P99)
}
