package app_test

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
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

// scrape reads a node's /metrics on its ops port.
func scrape(t *testing.T, opsURL string) string {
	t.Helper()
	resp, err := http.Get(opsURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(body)
}

// TestMetricsTellJoinsCheckoutsErrorsWritesAndEachSalesGauges runs one
// shopper through a sale, sends a checkout with a forged token and reads
// what the node's metrics say of it.
func TestMetricsTellJoinsCheckoutsErrorsWritesAndEachSalesGauges(t *testing.T) {
	sys := startSystem(t)
	saleID := sys.createSale(t, map[string]any{"sku": "M-3", "name": "Metrics", "stock": 3, "outflow_per_second": 100})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	in := buyOne(t, ctx, sys, saleID)
	orderStatus(t, ctx, in, "pending_payment")
	if status := sys.call(t, http.MethodPost, "/v1/sales/"+saleID+"/checkout", "", map[string]string{"token": "forged"}, nil); status != http.StatusUnauthorized {
		t.Fatalf("a forged token's checkout: %d, want 401", status)
	}
	body := scrape(t, sys.OpsURLs[0])
	for _, want := range []string{
		`foyer_joins_total{outcome="placed"} 1`,
		`foyer_checkouts_total{kind="checkout",outcome="confirmed"} 1`,
		`foyer_checkouts_total{kind="checkout",outcome="refused"} 1`,
		`foyer_errors_total{code="token_invalid",transport="http"} 1`,
		`foyer_sale_connections{sale="` + saleID + `"} 1`,
		`foyer_sale_units{sale="` + saleID + `",state="sold"} `,
		`foyer_sale_waiting{sale="` + saleID + `"} 0`,
		`foyer_write_wait_seconds_count{kind="news"} `,
		`foyer_writes_total{kind="news"} `,
		`foyer_redis_command_seconds_count{command="evalsha"} `,
		`foyer_redis_last_success_timestamp_seconds `,
		`foyer_sale_state{sale="` + saleID + `",state="open"} 1`,
		`foyer_admissions_total 1`,
		`foyer_holds_released_total 0`,
		`foyer_shopper_connections_limit `,
	} {
		if !strings.Contains(body, "\n"+want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

// TestTheWorkersMetricsTellOrdersPaymentsPostgresAndTheStreams runs a sale
// of one paid order and reads the worker's ops port.
func TestTheWorkersMetricsTellOrdersPaymentsPostgresAndTheStreams(t *testing.T) {
	sys := startSystem(t)
	saleID := sys.createSale(t, map[string]any{"sku": "M-4", "name": "Worker metrics", "stock": 1, "outflow_per_second": 100})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	in := buyOne(t, ctx, sys, saleID)
	orderStatus(t, ctx, in, "paid")
	body := scrape(t, sys.WorkerOps)
	for _, want := range []string{
		`foyer_worker_orders_total{status="pending_payment"} 1`,
		`foyer_worker_orders_settled_total{status="paid"} 1`,
		`foyer_worker_poisoned_total 0`,
		`foyer_postgres_seconds_count{op="write_orders"} 1`,
		`foyer_postgres_seconds_count{op="mark_paid"} 1`,
		`foyer_poison_messages 0`,
		`foyer_streams_readable 1`,
		`foyer_stream_pending{partition="legacy",stream="orders"} 0`,
		`foyer_worker_handler_execution_time_seconds_count{`,
		`foyer_redis_command_seconds_count{command="xreadgroup"} `,
		`process_cpu_seconds_total `,
	} {
		if !strings.Contains(body, "\n"+want) {
			t.Errorf("the worker's /metrics lacks %q", want)
		}
	}
}

// TestEverySeriesTheDashboardAndTheAlertsReadIsServed reads the names of
// the foyer_ series deploy/monitoring reads, runs a sale through a gateway
// and a worker (a paid order, a refused checkout), and finds each among
// the families their ops ports serve: a series renamed in the code breaks
// this test, not a dashboard in production.
func TestEverySeriesTheDashboardAndTheAlertsReadIsServed(t *testing.T) {
	var read []string
	for _, file := range []string{"grafana-dashboard.json", "alerts.yml"} {
		raw, err := os.ReadFile(filepath.Join("..", "..", "deploy", "monitoring", file))
		if err != nil {
			t.Fatal(err)
		}
		read = append(read, regexp.MustCompile(`\bfoyer_[a-z_]+`).FindAllString(string(raw), -1)...)
	}
	sys := startSystem(t)
	saleID := sys.createSale(t, map[string]any{"sku": "M-5", "name": "Every series", "stock": 2, "outflow_per_second": 100})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	in := buyOne(t, ctx, sys, saleID)
	orderStatus(t, ctx, in, "paid")
	sys.call(t, http.MethodPost, "/v1/sales/"+saleID+"/checkout", "", map[string]string{"token": "forged"}, nil)
	served := scrape(t, sys.OpsURLs[0]) + scrape(t, sys.WorkerOps)
	for _, name := range slices.Compact(slices.Sorted(slices.Values(read))) {
		family := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(name, "_bucket"), "_count"), "_sum")
		if !strings.Contains(served, "\n# TYPE "+family+" ") {
			t.Errorf("deploy/monitoring reads %s, which no gateway or worker serves", name)
		}
	}
}
