package bench

import (
	"strings"
	"testing"
	"time"

	"github.com/foyerhq/foyer/internal/loadgen"
)

func TestComponentLinesAreReadWithTheirMetrics(t *testing.T) {
	got := parseComponents([]byte("goos: linux\n" +
		"BenchmarkAdmission-2   \t       1\t2161963983 ns/op\t     60387 admitted/s\t    197634 baseline-admitted/s\t         0.3056 ratio\n" +
		"BenchmarkUpdateTick/waiting=10000-2  20  260000 ns/op  2.000 redis-trips/tick\n" +
		"--- BENCH: BenchmarkX\nPASS\nok  \tgithub.com/foyerhq/foyer/waitingroom\t13.2s\n"))
	if len(got) != 2 {
		t.Fatalf("read %d benchmark lines, want 2: %+v", len(got), got)
	}
	// The tick's line has round trips and no commands: the row says so as read.
	tick := Report{Components: got[1:]}
	found := false
	for _, row := range tick.Rows() {
		if row.What == "Redis calls per push tick (round trips / commands), 10000 waiting" {
			found = row.Foyer == "2 / 0"
		}
	}
	if !found {
		t.Errorf("no row of the update tick at 10000 waiting reading 2 / 0: %+v", tick.Rows())
	}
	if m := got[0].Metrics; got[0].Name != "BenchmarkAdmission-2" || m["ratio"] != 0.3056 || m["admitted/s"] != 60387 {
		t.Errorf("first line read as %+v", got[0])
	}
	r := Report{Components: got}
	var admission *Row
	for _, row := range r.Rows() {
		if row.Target == ">= 0.70" {
			admission = &row
		}
	}
	if admission == nil || admission.Met || admission.Ratio != 0.3056 {
		t.Errorf("admission row %+v, want ratio 0.3056 against >= 0.70, not met", admission)
	}
}

func TestCPUPerJoinIsSetAgainstCPUPerBareAcceptWhenEveryPartWasMeasured(t *testing.T) {
	r := Report{Rounds: []Round{{
		Bare: BareResult{Connections: 1000, AcceptsPerSecond: 4000, ClientCPU: 200 * time.Millisecond, ServerCPU: 200 * time.Millisecond},
		Hold: loadgen.Result{Shoppers: 1000, Joined: 1000, JoinCPU: 800 * time.Millisecond,
			GatewayBefore: loadgen.GatewayStats{CPUSeconds: 1}, GatewaySettled: loadgen.GatewayStats{CPUSeconds: 1.6}},
		RedisJoinCPU: 200 * time.Millisecond, RedisJoinReads: 2500,
	}}}
	whole := rowNamed(t, r, "CPU per join, all processes")
	if whole.Foyer != "1600 µs" || whole.Baseline != "400 µs" || whole.Ratio != 0.25 {
		t.Errorf("CPU row %+v, want 1600 µs against 400 µs, ratio 0.25", whole)
	}
	// Server side: the gateways' 600 µs and Redis's 200 µs against the
	// bare server's 200 µs, the load generator and the bare clients left out.
	server := rowNamed(t, r, "CPU per join, server side")
	if server.Foyer != "800 µs" || server.Baseline != "200 µs" || server.Ratio != 0.25 {
		t.Errorf("server side CPU row %+v, want 800 µs against 200 µs, ratio 0.25", server)
	}
	md := r.Markdown()
	for _, want := range []string{"| hold | CPU per join: load generator / gateways / Redis | 800 µs / 600 µs / 200 µs |",
		"| bare | CPU per accept: client / server | 200 µs / 200 µs |",
		"| hold | Redis round trips per join (reads Redis served, the nodes' own included) | 2.5 |"} {
		if !strings.Contains(md, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	// A run where Redis's CPU could not be read shows no CPU row at all.
	r.Rounds[0].RedisJoinCPU = 0
	for _, row := range r.Rows() {
		if strings.HasPrefix(row.What, "CPU per join") {
			t.Errorf("a CPU row without Redis's figure: %+v", row)
		}
	}
}

func TestInfoFieldsAreReadByExactName(t *testing.T) {
	info := "# CPU\r\nused_cpu_sys:4.491548\r\nused_cpu_user:3.5\r\nused_cpu_sys_children:0.02\r\n"
	if v, ok := infoField(info, "used_cpu_sys"); !ok || v != 4.491548 {
		t.Errorf("used_cpu_sys read as %v, %v; want 4.491548, not its _children line", v, ok)
	}
	if _, ok := infoField(info, "total_commands_processed"); ok {
		t.Error("a field the answer lacks was read")
	}
}

// The stock change's row sets Foyer's p99 against the time the bare
// broadcast, at its rate in the run, takes to reach as many shoppers, and
// holds it to its absolute target only for a crowd of 100,000.
func TestTheStockChangeIsSetAgainstTheBareBroadcastAtItsRate(t *testing.T) {
	pushRow := func(r Report) Row {
		for _, row := range r.Rows() {
			if strings.HasPrefix(row.What, "stock change reaches") {
				return row
			}
		}
		t.Fatalf("no stock change row in %+v", r.Rows())
		return Row{}
	}
	// The bare server reaches 10,000 with p99 500 ms: 20,000 a second.
	bare := BareResult{Connections: 10_000, Push: loadgen.LatencySummary{P99: 500 * time.Millisecond}}
	r := Report{Rounds: []Round{{Bare: bare, Hold: loadgen.Result{Shoppers: 100_000, StockPush: loadgen.LatencySummary{P99: 8 * time.Second}}}}}
	h := &r.Rounds[0].Hold
	row := pushRow(r)
	if row.Foyer != "8000 ms" || row.Baseline != "5000 ms" || row.Ratio != 0.625 || row.Target != "p99 < 1 s" || row.Met {
		t.Errorf("at 100,000: %+v, want 8000 ms against 5000 ms, ratio 0.625, target p99 < 1 s not met", row)
	}
	h.StockPush.P99 = 900 * time.Millisecond
	if row := pushRow(r); !row.Met {
		t.Errorf("p99 900 ms at 100,000 is not counted as met: %+v", row)
	}
	h.StockPush.P99 = time.Second
	if row := pushRow(r); row.Met {
		t.Errorf("p99 of exactly 1 s counted as under it: %+v", row)
	}
	h.StockPush.P99 = 0 // no change reached anyone
	if row := pushRow(r); row.Met || row.Baseline != "" {
		t.Errorf("a run that measured no stock change: %+v, want no ceiling and not met", row)
	}
	h.Shoppers, h.StockPush.P99 = 10_000, 8*time.Second
	if row := pushRow(r); row.Target != "" || row.Baseline != "500 ms" {
		t.Errorf("at 10,000: %+v, want no target and a ceiling of 500 ms", row)
	}
}

// rowNamed is the summary's row whose figure starts with prefix.
func rowNamed(t *testing.T, r Report, prefix string) Row {
	t.Helper()
	for _, row := range r.Rows() {
		if strings.HasPrefix(row.What, prefix) {
			return row
		}
	}
	t.Fatalf("no row %q in %+v", prefix, r.Rows())
	return Row{}
}

// TestAComponentRowIsItsOwnBenchmarksAlone: the 10:34 make bench printed a
// second admission row (1.25, "met") from the wait histogram's benchmark
// and a second join row (0/s) from the join's allocations', both caught
// by a prefix of their names.
func TestAComponentRowIsItsOwnBenchmarksAlone(t *testing.T) {
	r := Report{Components: parseComponents([]byte(`
BenchmarkJoin-2   3  1211825631 ns/op  45625 baseline-joins/s  25858 joins/s  0.5668 ratio
BenchmarkAdmission-2   3  704715645 ns/op  251680 admitted/s  325327 baseline-admitted/s  0.7736 ratio
BenchmarkAdmissionWithTheWaitHistogram-2   3  852964284 ns/op  1.248 ratio  1.256 redis-ratio
BenchmarkJoinAllocations-2   1  3153566886 ns/op  14687 bare-B/join  30393 foyer-B/join
`))}
	counts := map[string]int{}
	for _, row := range r.Rows() {
		counts[row.What]++
	}
	for _, what := range []string{"admission (admit.lua via the Admitter) vs pipelined Lua", "join in Redis (join.lua) vs INCR+ZADD in one script"} {
		if counts[what] != 1 {
			t.Errorf("%d rows %q, want 1", counts[what], what)
		}
	}
	if row := rowNamed(t, r, "admission (admit.lua"); row.Ratio != 0.7736 {
		t.Errorf("admission row %+v, want the admission benchmark's 0.77", row)
	}
}
