package app_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestMetricsCountTheShoppersConnectedToTheNode connects three shoppers and
// reads the node's Prometheus metrics on its ops port.
func TestMetricsCountTheShoppersConnectedToTheNode(t *testing.T) {
	sys := startSystem(t)
	saleID := sys.createSale(t, map[string]any{"sku": "M-2", "name": "Metrics", "stock": 5, "outflow_per_second": stalled})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for range 3 {
		conn, _ := connectNew(t, ctx, sys.URL, saleID)
		if _, err := listen(conn).wait(ctx, "welcome"); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := http.Get(sys.OpsURLs[0] + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, want := range []string{"\nfoyer_shopper_connections 3\n", "\ngo_goroutines ", "\nfoyer_slow_clients_dropped_total 0\n"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q", strings.TrimSpace(want))
		}
	}
}
