package loadgen

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"text/tabwriter"
	"time"
)

// WriteTable writes res as a two-column table (metric, value).
func WriteTable(w io.Writer, res Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(metric string, value any) { fmt.Fprintf(tw, "%s\t%v\n", metric, value) }
	row("metric", "value")
	row("scenario", res.Scenario)
	row("shoppers", res.Shoppers)
	row("processes", res.Procs)
	row("nodes", res.Nodes)
	row("elapsed", res.Elapsed.Round(time.Millisecond))
	row("connected", res.Connected)
	row("held", res.Held)
	row("joined", res.Joined)
	row("joins_per_second", fmt.Sprintf("%.1f", res.JoinsPerSecond))
	latencyRows(row, "join_latency", res.JoinLatency)
	if lg, gw := res.CPUPerJoin(); lg > 0 {
		row("loadgen_cpu_per_join", lg.Round(time.Microsecond))
		if gw > 0 {
			row("gateway_cpu_per_join", gw.Round(time.Microsecond))
		}
	}
	row("admitted", res.Admitted)
	if res.AdmitPush.Count > 0 {
		latencyRows(row, "admit_push", res.AdmitPush)
	}
	row("paid", res.Paid)
	row("cancelled", res.Cancelled)
	row("sold_out", res.SoldOut)
	row("expired", res.Expired)
	row("joins_retried", res.Retried)
	row("orders_per_second", fmt.Sprintf("%.1f", res.OrdersPerSecond))
	row("paid_per_second", fmt.Sprintf("%.1f", res.PaidPerSecond))
	latencyRows(row, "admit_to_paid", res.AdmitToPaid)
	if res.CheckoutLatency.Count > 0 {
		latencyRows(row, "checkout_latency", res.CheckoutLatency)
	}
	for _, l := range []struct {
		name string
		l    LatencySummary
	}{{"push_latency", res.PushLatency}, {"slow_push_latency", res.SlowPushLatency}, {"stock_push", res.StockPush}} {
		if l.l.Count > 0 {
			row(l.name+"_measured", l.l.Count)
			latencyRows(row, l.name, l.l)
		}
	}
	if g := res.GatewayHeld; g.Connections > 0 {
		bytes, goroutines := g.PerConnection(res.GatewayBefore)
		row("gateway_connections", g.Connections)
		row("gateway_bytes_per_connection", fmt.Sprintf("%.0f", bytes))
		row("gateway_goroutines_per_connection", fmt.Sprintf("%.2f", goroutines))
		row("gateway_rss_mib", fmt.Sprintf("%.0f", g.RSSBytes/(1<<20)))
		row("gateway_slow_dropped", g.Dropped)
	}
	row("errors", res.Errors)
	for _, code := range slices.Sorted(maps.Keys(res.ErrorCodes)) {
		row("errors."+code, res.ErrorCodes[code])
	}
	return tw.Flush()
}

func latencyRows(row func(string, any), name string, l LatencySummary) {
	row(name+"_p50", l.P50.Round(time.Microsecond))
	row(name+"_p95", l.P95.Round(time.Microsecond))
	row(name+"_p99", l.P99.Round(time.Microsecond))
	row(name+"_max", l.Max.Round(time.Microsecond))
}

// jsonLatency is a LatencySummary in milliseconds, for tools that read JSON.
type jsonLatency struct {
	Count int     `json:"count"`
	P50   float64 `json:"p50_ms"`
	P95   float64 `json:"p95_ms"`
	P99   float64 `json:"p99_ms"`
	Max   float64 `json:"max_ms"`
}

func toJSONLatency(l LatencySummary) jsonLatency {
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	return jsonLatency{Count: l.Count, P50: ms(l.P50), P95: ms(l.P95), P99: ms(l.P99), Max: ms(l.Max)}
}

// jsonGateway is the gateways' cost of holding the run's shoppers.
type jsonGateway struct {
	Connections             float64 `json:"connections"`
	BytesPerConnection      float64 `json:"bytes_per_connection"`
	GoroutinesPerConnection float64 `json:"goroutines_per_connection"`
	RSSBytes                float64 `json:"rss_bytes"`
	SlowClientsDropped      float64 `json:"slow_clients_dropped"`
}

// WriteJSON writes res as one JSON object with the table's numbers;
// durations are in milliseconds.
func WriteJSON(w io.Writer, res Result) error {
	codes := res.ErrorCodes
	if codes == nil {
		codes = map[string]int64{}
	}
	bytes, goroutines := res.GatewayHeld.PerConnection(res.GatewayBefore)
	loadgenCPU, gatewayCPU := res.CPUPerJoin()
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		Scenario        string           `json:"scenario"`
		Shoppers        int              `json:"shoppers"`
		Procs           int              `json:"processes"`
		Nodes           int              `json:"nodes"`
		ElapsedMs       float64          `json:"elapsed_ms"`
		Connected       int64            `json:"connected"`
		Held            int64            `json:"held"`
		Joined          int64            `json:"joined"`
		JoinsPerSecond  float64          `json:"joins_per_second"`
		JoinLatency     jsonLatency      `json:"join_latency"`
		LoadgenCPUUs    float64          `json:"loadgen_cpu_per_join_us"`
		GatewayCPUUs    float64          `json:"gateway_cpu_per_join_us"`
		Admitted        int64            `json:"admitted"`
		AdmitPush       jsonLatency      `json:"admit_push"`
		Paid            int64            `json:"paid"`
		Cancelled       int64            `json:"cancelled"`
		SoldOut         int64            `json:"sold_out"`
		Expired         int64            `json:"expired"`
		Retried         int64            `json:"joins_retried"`
		OrdersPerSecond float64          `json:"orders_per_second"`
		PaidPerSecond   float64          `json:"paid_per_second"`
		AdmitToPaid     jsonLatency      `json:"admit_to_paid"`
		Checkout        jsonLatency      `json:"checkout_latency"`
		PushLatency     jsonLatency      `json:"push_latency"`
		SlowPush        jsonLatency      `json:"slow_push_latency"`
		StockPush       jsonLatency      `json:"stock_push"`
		Gateway         jsonGateway      `json:"gateway"`
		Errors          int64            `json:"errors"`
		ErrorCodes      map[string]int64 `json:"error_codes"`
	}{
		res.Scenario, res.Shoppers, res.Procs, res.Nodes, float64(res.Elapsed) / float64(time.Millisecond),
		res.Connected, res.Held, res.Joined, res.JoinsPerSecond, toJSONLatency(res.JoinLatency),
		float64(loadgenCPU) / float64(time.Microsecond), float64(gatewayCPU) / float64(time.Microsecond),
		res.Admitted, toJSONLatency(res.AdmitPush), res.Paid, res.Cancelled, res.SoldOut, res.Expired, res.Retried,
		res.OrdersPerSecond, res.PaidPerSecond, toJSONLatency(res.AdmitToPaid), toJSONLatency(res.CheckoutLatency), toJSONLatency(res.PushLatency),
		toJSONLatency(res.SlowPushLatency), toJSONLatency(res.StockPush),
		jsonGateway{res.GatewayHeld.Connections, bytes, goroutines, res.GatewayHeld.RSSBytes, res.GatewayHeld.Dropped},
		res.Errors, codes,
	})
}
