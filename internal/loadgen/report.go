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
	row("elapsed", res.Elapsed.Round(time.Millisecond))
	row("connected", res.Connected)
	row("held", res.Held)
	row("joined", res.Joined)
	row("joins_per_second", fmt.Sprintf("%.1f", res.JoinsPerSecond))
	latencyRows(row, "join_latency", res.JoinLatency)
	row("admitted", res.Admitted)
	row("paid", res.Paid)
	row("cancelled", res.Cancelled)
	row("sold_out", res.SoldOut)
	row("expired", res.Expired)
	row("orders_per_second", fmt.Sprintf("%.1f", res.OrdersPerSecond))
	latencyRows(row, "admit_to_paid", res.AdmitToPaid)
	if res.PushLatency.Count > 0 {
		row("pushes_measured", res.PushLatency.Count)
		latencyRows(row, "push_latency", res.PushLatency)
	}
	row("errors", res.Errors)
	for _, code := range slices.Sorted(maps.Keys(res.ErrorCodes)) {
		row("errors."+code, res.ErrorCodes[code])
	}
	return tw.Flush()
}

func latencyRows(row func(string, any), name string, l LatencySummary) {
	row(name+"_p50", l.P50.Round(time.Microsecond))
	row(name+"_p99", l.P99.Round(time.Microsecond))
	row(name+"_max", l.Max.Round(time.Microsecond))
}

// jsonLatency is a LatencySummary in milliseconds, for tools that read JSON.
type jsonLatency struct {
	Count int     `json:"count"`
	P50   float64 `json:"p50_ms"`
	P99   float64 `json:"p99_ms"`
	Max   float64 `json:"max_ms"`
}

func toJSONLatency(l LatencySummary) jsonLatency {
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	return jsonLatency{Count: l.Count, P50: ms(l.P50), P99: ms(l.P99), Max: ms(l.Max)}
}

// WriteJSON writes res as one JSON object with the table's numbers;
// durations are in milliseconds.
func WriteJSON(w io.Writer, res Result) error {
	codes := res.ErrorCodes
	if codes == nil {
		codes = map[string]int64{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		Scenario        string           `json:"scenario"`
		Shoppers        int              `json:"shoppers"`
		ElapsedMs       float64          `json:"elapsed_ms"`
		Connected       int64            `json:"connected"`
		Held            int64            `json:"held"`
		Joined          int64            `json:"joined"`
		JoinsPerSecond  float64          `json:"joins_per_second"`
		JoinLatency     jsonLatency      `json:"join_latency"`
		Admitted        int64            `json:"admitted"`
		Paid            int64            `json:"paid"`
		Cancelled       int64            `json:"cancelled"`
		SoldOut         int64            `json:"sold_out"`
		Expired         int64            `json:"expired"`
		OrdersPerSecond float64          `json:"orders_per_second"`
		AdmitToPaid     jsonLatency      `json:"admit_to_paid"`
		PushLatency     jsonLatency      `json:"push_latency"`
		Errors          int64            `json:"errors"`
		ErrorCodes      map[string]int64 `json:"error_codes"`
	}{
		res.Scenario, res.Shoppers, float64(res.Elapsed) / float64(time.Millisecond),
		res.Connected, res.Held, res.Joined, res.JoinsPerSecond, toJSONLatency(res.JoinLatency),
		res.Admitted, res.Paid, res.Cancelled, res.SoldOut, res.Expired, res.OrdersPerSecond,
		toJSONLatency(res.AdmitToPaid), toJSONLatency(res.PushLatency), res.Errors, codes,
	})
}
