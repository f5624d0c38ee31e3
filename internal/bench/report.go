package bench

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/foyerhq/foyer/internal/loadgen"
)

// Report is everything a bench run measured.
type Report struct {
	Machine string
	Started time.Time
	Elapsed time.Duration
	Options Options

	Bare             BareResult
	Hold, Slow, Sale loadgen.Result
	// Redis commands per second while holding everyone, and while holding
	// the slow scenario's fewer shoppers: the hot path must not grow with
	// the number of waiting shoppers.
	RedisCommandsPerSecond, SlowRedisCommandsPerSecond float64
	// RedisJoinCPU is the CPU Redis used while the hold scenario's shoppers
	// joined (to the moment all had).
	RedisJoinCPU time.Duration
	// RedisJoinReads is how many reads Redis served meanwhile: its round
	// trips, the nodes' own work (heartbeats, event reads) included.
	RedisJoinReads float64
	Components     []Component
}

// BareResult is the bare coder/websocket server's ceiling.
type BareResult struct {
	Servers                 int // bare server processes, each with a process of clients
	Connections             int
	AcceptsPerSecond        float64
	BytesPerConnection      float64
	GoroutinesPerConnection float64
	Push                    loadgen.LatencySummary
	// ClientCPU and ServerCPU are what the accepts cost the bench's
	// clients and the bare server, in all.
	ClientCPU, ServerCPU time.Duration
}

// perAccept is the bare server's and its clients' CPU per connection accepted.
func (b BareResult) perAccept() (client, server time.Duration) {
	if b.Connections == 0 {
		return 0, 0
	}
	n := time.Duration(b.Connections)
	return b.ClientCPU / n, b.ServerCPU / n
}

// joinCPU is the CPU one join of the hold scenario cost the load generator,
// the gateways and Redis; zero where a part was not measured.
func (r *Report) joinCPU() (loadgenCPU, gateways, redis time.Duration) {
	loadgenCPU, gateways = r.Hold.CPUPerJoin()
	if loadgenCPU == 0 || gateways == 0 || r.RedisJoinCPU == 0 {
		return 0, 0, 0
	}
	return loadgenCPU, gateways, r.RedisJoinCPU / time.Duration(r.Hold.Joined)
}

// Component is one Go benchmark's line: its name and its metrics by unit.
type Component struct {
	Name    string
	Metrics map[string]float64
}

// Row is one line of the summary: a figure of Foyer's, its ceiling in the
// same run, their ratio and the target for that ratio.
type Row struct {
	What     string
	Foyer    string
	Baseline string
	Ratio    float64
	Target   string // e.g. ">= 0.8"; empty when there is none
	Met      bool
}

// pushTargetShoppers is the crowd the push target is set for: a stock change
// reaches that many waiting shoppers with p99 under a second.
const pushTargetShoppers = 100_000

// Rows is the summary table.
func (r *Report) Rows() []Row {
	var rows []Row
	add := func(what, foyer, baseline string, ratio float64, atLeast bool, target float64) {
		row := Row{What: what, Foyer: foyer, Baseline: baseline, Ratio: ratio}
		if target > 0 {
			if atLeast {
				row.Target, row.Met = fmt.Sprintf(">= %.2f", target), ratio >= target
			} else {
				row.Target, row.Met = fmt.Sprintf("<= %.2f", target), ratio <= target
			}
		}
		rows = append(rows, row)
	}
	b, h := r.Bare, r.Hold
	if b.Connections > 0 {
		bytes, goroutines := h.GatewayHeld.PerConnection(h.GatewayBefore)
		add("memory per idle shopper (Go heap + stacks)", fmt.Sprintf("%.0f B", bytes),
			fmt.Sprintf("%.0f B", b.BytesPerConnection), ratio(bytes, b.BytesPerConnection), false, 1.0)
		add("goroutines per shopper", fmt.Sprintf("%.2f", goroutines),
			fmt.Sprintf("%.2f", b.GoroutinesPerConnection), ratio(goroutines, b.GoroutinesPerConnection), false, 0)
		add("join rate (session + WebSocket + join answered) vs bare accepts", fmt.Sprintf("%.0f/s", h.JoinsPerSecond),
			fmt.Sprintf("%.0f/s", b.AcceptsPerSecond), ratio(h.JoinsPerSecond, b.AcceptsPerSecond), true, 0.6)
		if lg, gw, rd := r.joinCPU(); lg > 0 {
			client, server := b.perAccept()
			add("CPU per join, all processes (load generator + gateways + Redis) vs per bare accept (client + server)",
				us(lg+gw+rd), us(client+server), ratio(float64(client+server), float64(lg+gw+rd)), true, 0)
		}
		foyerFanout := fanout(h.StockPush, h.Shoppers)
		bareFanout := fanout(b.Push, b.Connections)
		add("fan-out: a change to every held shopper (shoppers / p99)", fmt.Sprintf("%.0f/s", foyerFanout),
			fmt.Sprintf("%.0f/s", bareFanout), ratio(foyerFanout, bareFanout), true, 0.8)
	}
	// The stock change's own target is absolute (p99 under a second at
	// 100,000 waiting), so its ceiling is the time the bare server's
	// broadcast, at its rate in this run, takes to reach as many.
	push := Row{What: fmt.Sprintf("stock change reaches %d shoppers, p99 (ceiling: as many at the bare broadcast's rate)", h.Shoppers),
		Foyer: ms(h.StockPush.P99)}
	if bare := fanout(b.Push, b.Connections); bare > 0 && h.StockPush.P99 > 0 {
		least := time.Duration(float64(h.Shoppers) / bare * float64(time.Second))
		push.Baseline, push.Ratio = ms(least), ratio(float64(least), float64(h.StockPush.P99))
	}
	if h.Shoppers >= pushTargetShoppers {
		push.Target, push.Met = "p99 < 1 s", h.StockPush.P99 > 0 && h.StockPush.P99 < time.Second
	}
	rows = append(rows, push)
	for _, c := range r.Components {
		switch {
		case strings.HasPrefix(c.Name, "BenchmarkAdmission"):
			add("admission (admit.lua via the Admitter) vs pipelined Lua", perSec(c.Metrics["admitted/s"]),
				perSec(c.Metrics["baseline-admitted/s"]), c.Metrics["ratio"], true, 0.7)
		case strings.HasPrefix(c.Name, "BenchmarkJoin"):
			add("join in Redis (join.lua) vs INCR+ZADD in one script", perSec(c.Metrics["joins/s"]),
				perSec(c.Metrics["baseline-joins/s"]), c.Metrics["ratio"], false, 0)
		case strings.HasPrefix(c.Name, "BenchmarkOrderPipeline"):
			add("order pipeline (Watermill + worker) vs raw XREADGROUP + COPY", perSec(c.Metrics["batched-orders/s"]),
				perSec(c.Metrics["raw-copy-orders/s"]), c.Metrics["batched/raw"], true, 0.25)
		case strings.HasPrefix(c.Name, "BenchmarkUpdateTick/waiting="):
			// The push tick's Redis calls, whatever the number waiting:
			// flat is the figure, so there is no ratio.
			waiting := strings.TrimPrefix(c.Name, "BenchmarkUpdateTick/waiting=")
			waiting, _, _ = strings.Cut(waiting, "-")
			add("Redis calls per push tick (round trips / commands), "+waiting+" waiting",
				fmt.Sprintf("%.0f / %.0f", c.Metrics["redis-trips/tick"], c.Metrics["redis-cmds/tick"]), "", 0, false, 0)
		case strings.HasPrefix(c.Name, "BenchmarkIdleConnectionMemory"):
			add("memory per idle shopper, one process (go test)", fmt.Sprintf("%.0f B", c.Metrics["foyer-B/conn"]),
				fmt.Sprintf("%.0f B", c.Metrics["bare-B/conn"]), c.Metrics["foyer/bare"], false, 1.0)
		}
	}
	return rows
}

// Markdown is the report as the tables docs/performance.md shows.
func (r *Report) Markdown() string {
	var w bytes.Buffer
	o := r.Options
	fmt.Fprintf(&w, "## foyer-bench bench, %s\n\n", r.Started.Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(&w, "Machine: %s. %d gateway processes, %d load generator processes on their own source addresses, "+
		"Redis (AOF, fsync always) and Postgres on loopback; %d shoppers held; %s in all.\n\n",
		r.Machine, o.Nodes, o.Procs, o.Shoppers, r.Elapsed.Round(time.Second))
	fmt.Fprintln(&w, "| figure | Foyer | ceiling, same run | ratio | target | met |")
	fmt.Fprintln(&w, "|---|---|---|---|---|---|")
	for _, row := range r.Rows() {
		ratio, met := "", ""
		if row.Ratio > 0 {
			ratio = fmt.Sprintf("%.2f", row.Ratio)
		}
		if row.Target != "" {
			met = map[bool]string{true: "yes", false: "**no**"}[row.Met]
		}
		fmt.Fprintf(&w, "| %s | %s | %s | %s | %s | %s |\n", row.What, row.Foyer, row.Baseline, ratio, row.Target, met)
	}
	fmt.Fprintln(&w, "\n| scenario | figure | value |")
	fmt.Fprintln(&w, "|---|---|---|")
	line := func(s, f, v string) { fmt.Fprintf(&w, "| %s | %s | %s |\n", s, f, v) }
	h := r.Hold
	line("hold", "connections held / errors", fmt.Sprintf("%d / %d", h.Held, h.Errors))
	line("hold", "join latency p50 / p99", ms(h.JoinLatency.P50)+" / "+ms(h.JoinLatency.P99))
	if lg, gw, rd := r.joinCPU(); lg > 0 {
		line("hold", "CPU per join: load generator / gateways / Redis", us(lg)+" / "+us(gw)+" / "+us(rd))
	}
	if r.RedisJoinReads > 0 && h.Joined > 0 {
		line("hold", "Redis round trips per join (reads Redis served, the nodes' own included)",
			fmt.Sprintf("%.1f", r.RedisJoinReads/float64(h.Joined)))
	}
	if client, server := r.Bare.perAccept(); client > 0 {
		line("bare", "CPU per accept: client / server", us(client)+" / "+us(server))
	}
	line("hold", "stock change to every shopper p50 / p99 / max", latencies(h.StockPush))
	line("hold", "gateway RSS in all", fmt.Sprintf("%.0f MiB", h.GatewayHeld.RSSBytes/(1<<20)))
	line("hold", "Redis commands per second while holding them", fmt.Sprintf("%.0f", r.RedisCommandsPerSecond))
	if r.Bare.Connections > 0 {
		line("bare", "servers / connections held", fmt.Sprintf("%d / %d", r.Bare.Servers, r.Bare.Connections))
		line("bare", "broadcast to every connection p50 / p99 / max", latencies(r.Bare.Push))
	}
	if s := r.Slow; s.Shoppers > 0 {
		line("slow", "shoppers reading at full speed: message p50 / p99 / max", latencies(s.PushLatency))
		line("slow", "slow readers (a tenth): message p50 / p99 / max", latencies(s.SlowPushLatency))
		line("slow", "held / errors / cut off by the gateway", fmt.Sprintf("%d / %d / %.0f", s.Held, s.Errors, s.GatewayHeld.Dropped))
		line("slow", "Redis commands per second while holding them", fmt.Sprintf("%.0f", r.SlowRedisCommandsPerSecond))
	}
	if s := r.Sale; s.Shoppers > 0 {
		line("sale", "paid / sold out / errors", fmt.Sprintf("%d / %d / %d", s.Paid, s.SoldOut, s.Errors))
		line("sale", "joins per second", fmt.Sprintf("%.0f", s.JoinsPerSecond))
		line("sale", "admitter's tick to the shopper p50 / p99 / max", latencies(s.AdmitPush))
		line("sale", "admission to paid order p50 / p99", ms(s.AdmitToPaid.P50)+" / "+ms(s.AdmitToPaid.P99))
		line("sale", "paid orders per second", fmt.Sprintf("%.0f", s.OrdersPerSecond))
	}
	return w.String()
}

// write writes bench.md and bench.json into dir.
func (r *Report) write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "bench.md"), []byte(r.Markdown()), 0o644); err != nil {
		return err
	}
	raw, err := json.MarshalIndent(struct {
		*Report
		Summary []Row
	}{r, r.Rows()}, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "bench.json"), raw, 0o644)
}

// parseComponents reads the result lines of `go test -bench` output:
// "BenchmarkX-2  1  123 ns/op  4.5 unit ...".
func parseComponents(raw []byte) []Component {
	var out []Component
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		if _, err := strconv.Atoi(f[1]); err != nil {
			continue
		}
		c := Component{Name: f[0], Metrics: map[string]float64{}}
		for i := 2; i+1 < len(f); i += 2 {
			if v, err := strconv.ParseFloat(f[i], 64); err == nil {
				c.Metrics[f[i+1]] = v
			}
		}
		out = append(out, c)
	}
	return out
}

// machine names the machine the run is on.
func machine() string {
	model := ""
	if raw, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(raw), "\n") {
			if v, ok := strings.CutPrefix(line, "model name"); ok {
				model = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	return strings.TrimSpace(fmt.Sprintf("%d cores %s, %s/%s, %s", runtime.NumCPU(), model, runtime.GOOS, runtime.GOARCH, runtime.Version()))
}

// fanout is shoppers reached per second by one change: the shoppers over
// the p99 latency of reaching them.
func fanout(l loadgen.LatencySummary, shoppers int) float64 {
	if l.P99 <= 0 {
		return 0
	}
	return float64(shoppers) / l.P99.Seconds()
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

func ms(d time.Duration) string { return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond)) }

func us(d time.Duration) string { return fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond)) }

func latencies(l loadgen.LatencySummary) string {
	return ms(l.P50) + " / " + ms(l.P99) + " / " + ms(l.Max)
}

func perSec(v float64) string { return fmt.Sprintf("%.0f/s", v) }
