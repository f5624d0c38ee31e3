package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
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
