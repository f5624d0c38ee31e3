package bench

import (
	"strings"
	"testing"
	"time"

	"github.com/foyerhq/foyer/internal/loadgen"
)

func TestSpreadIsTheMedianOfTheRoundsWithTheirLeastAndMost(t *testing.T) {
	tests := []struct {
		name string
		in   []float64
		want Spread
	}{
		{"no round", nil, Spread{}},
		{"one round", []float64{0.4}, Spread{0.4, 0.4, 0.4}},
		{"two rounds: the mean of both", []float64{0.5, 0.3}, Spread{0.4, 0.3, 0.5}},
		{"three rounds: the middle one", []float64{0.9, 0.2, 0.5}, Spread{0.5, 0.2, 0.9}},
		{"four rounds: the mean of the middle two", []float64{4, 1, 3, 2}, Spread{2.5, 1, 4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := append([]float64(nil), tt.in...)
			if got := spreadOf(tt.in); got != tt.want {
				t.Errorf("spreadOf(%v) = %+v, want %+v", tt.in, got, tt.want)
			}
			for i := range in {
				if in[i] != tt.in[i] {
					t.Fatal("spreadOf reordered its input")
				}
			}
		})
	}
}

// round is a round whose bare server accepted at bareRate and whose Foyer
// joined at joinRate, 1,000 connections each.
func round(bareRate, joinRate float64) Round {
	return Round{
		Bare: BareResult{Connections: 1000, AcceptsPerSecond: bareRate, BytesPerConnection: 10_000,
			Push: loadgen.LatencySummary{P99: 100 * time.Millisecond}},
		Hold: loadgen.Result{Shoppers: 1000, JoinsPerSecond: joinRate, StockPush: loadgen.LatencySummary{P99: 200 * time.Millisecond},
			GatewayBefore: loadgen.GatewayStats{}, GatewayHeld: loadgen.GatewayStats{Connections: 1000, HeapBytes: 8e6}},
	}
}

// The machine slowed between rounds: the ratio of each round stands, and
// the row gives their median, each side's median and the spread.
func TestEachRatioIsTheMedianOfItsRoundsWithTheirSpread(t *testing.T) {
	r := Report{Rounds: []Round{round(4000, 1600), round(2000, 1000), round(3000, 900)}}
	join := rowNamed(t, r, "join rate")
	if join.Ratio != 0.4 || join.Min != 0.3 || join.Max != 0.5 || len(join.Rounds) != 3 {
		t.Errorf("join rate row %+v, want the median 0.40 of 0.40, 0.50, 0.30 with spread 0.30–0.50", join)
	}
	if join.Foyer != "1000/s" || join.Baseline != "3000/s" {
		t.Errorf("join rate row shows %s against %s, want each side's median: 1000/s against 3000/s", join.Foyer, join.Baseline)
	}
	if join.Met || join.Target != ">= 0.60" {
		t.Errorf("join rate row %+v, want target >= 0.60 not met", join)
	}
	memory := rowNamed(t, r, "memory per idle shopper")
	if memory.Ratio != 0.8 || memory.Min != 0.8 || memory.Max != 0.8 || !memory.Met {
		t.Errorf("memory row %+v, want 0.80 in every round, met", memory)
	}
	md := r.Markdown()
	for _, want := range []string{"| 0.40 (0.30–0.50) |", "3 rounds of bare then Foyer",
		"| hold | connections held / errors | 0 / 0 · 0 / 0 · 0 / 0 |"} {
		if !strings.Contains(md, want) {
			t.Errorf("the report lacks %q:\n%s", want, md)
		}
	}
}

// A round whose bare baseline was skipped measures no ratio: the row's
// median is over the rounds that did.
func TestARoundWithoutItsBaselineIsLeftOutOfTheRatio(t *testing.T) {
	skipped := round(4000, 1600)
	skipped.Bare = BareResult{}
	r := Report{Rounds: []Round{round(2000, 1000), skipped}}
	if join := rowNamed(t, r, "join rate"); join.Ratio != 0.5 || len(join.Rounds) != 1 {
		t.Errorf("join rate row %+v, want 0.50 from the one round with a baseline", join)
	}
}

// Resident memory per shopper is set against the bare server's beside heap
// and stacks: RSS holds the collector's headroom, which the Go figure
// leaves out (the memory target is by RSS).
func TestResidentMemoryPerShopperIsSetAgainstTheBareServers(t *testing.T) {
	rd := round(4000, 1600)
	rd.Bare.RSSPerConnection = 20_000
	rd.Hold.GatewayBefore.RSSBytes = 50e6
	rd.Hold.GatewayHeld.RSSBytes = 50e6 + 1000*25_000
	later := rd // a second round: the gateways held the first's memory still
	later.Hold.GatewayBefore.RSSBytes, later.Hold.GatewayHeld.RSSBytes = 300e6, 310e6
	rss := rowNamed(t, Report{Rounds: []Round{rd, later}}, "memory per idle shopper (RSS")
	if rss.Ratio != 1.25 || rss.Met || rss.Foyer != "25000 B" || rss.Baseline != "20000 B" {
		t.Errorf("RSS row %+v, want the first round's 25000 B against 20000 B, 1.25, not met (at most 1.0)", rss)
	}
	if len(rss.Rounds) != 1 {
		t.Errorf("RSS row of %d rounds, want the first alone", len(rss.Rounds))
	}
	if got := (loadgen.GatewayStats{Connections: 0}).RSSPerConnection(loadgen.GatewayStats{}); got != 0 {
		t.Errorf("RSS per connection of no connection: %v, want 0", got)
	}
}

// Idle, both crowds pinging alike: the gateways' CPU per held shopper per
// second of the quiet window is set against the bare servers' per
// connection, and held to at most twice it.
func TestIdleCPUPerHeldShopperIsSetAgainstTheBareServersPerConnection(t *testing.T) {
	rd := round(4000, 1600)
	// 30 ms over 10 s for 1,000 shoppers: 3 µs/s each; the bare servers'
	// 20 ms for as many: 2 µs/s.
	rd.Hold.Idle = loadgen.IdleCPU{Connections: 1000, Window: 10 * time.Second, CPU: 30 * time.Millisecond}
	rd.Bare.Idle = loadgen.IdleCPU{Connections: 1000, Window: 10 * time.Second, CPU: 20 * time.Millisecond}
	worse := rd
	worse.Hold.Idle.CPU = 50 * time.Millisecond // 5 µs/s: 2.5 times
	unmeasured := round(4000, 1600)             // -idle-for 0: no window on either side
	r := Report{Options: Options{PingEvery: 5 * time.Second}, Rounds: []Round{rd, worse, unmeasured}}
	idle := rowNamed(t, r, "CPU per held shopper, idle (a ping every 5 s) vs the bare server's per connection")
	near := func(a, b float64) bool { return a > b-1e-9 && a < b+1e-9 }
	if idle.Foyer != "4.00 µs/s" || idle.Baseline != "2.00 µs/s" || !near(idle.Ratio, 2) || !near(idle.Min, 1.5) || !near(idle.Max, 2.5) {
		t.Errorf("idle CPU row %+v, want the medians 4.00 against 2.00 µs/s, ratio 2.00 (1.50–2.50)", idle)
	}
	if idle.Target != "<= 2.00" || !idle.Met {
		t.Errorf("idle CPU row %+v, want target <= 2.00, met at 2.00", idle)
	}
	if md := r.Markdown(); !strings.Contains(md, "| hold | idle: gateways' CPU per held shopper per second (the window, its CPU, shoppers held) | 3.00 µs/s over 10 s (30 ms of CPU, 1000 held) ·") {
		t.Errorf("the report lacks the rounds' idle figures:\n%s", md)
	}
	if got := (loadgen.IdleCPU{Window: time.Second, CPU: time.Second}).PerConnectionPerSecond(); got != 0 {
		t.Errorf("idle CPU per connection of no connection: %v, want 0", got)
	}
	// Less the empty node's own CPU: 10 ms over 10 s with nobody, so each of
	// the 1,000 held added 2 µs/s (and 4 µs/s in the worse round).
	rd.Empty = loadgen.IdleCPU{Window: 10 * time.Second, CPU: 10 * time.Millisecond}
	worse.Empty = rd.Empty
	r = Report{Options: Options{PingEvery: 5 * time.Second}, Rounds: []Round{rd, worse, unmeasured}}
	net := rowNamed(t, r, "CPU per held shopper, idle (a ping every 5 s), less the empty node's own")
	if net.Foyer != "3.00 µs/s" || net.Baseline != "2.00 µs/s" || !near(net.Ratio, 1.5) || !near(net.Min, 1) || !near(net.Max, 2) || !net.Met {
		t.Errorf("net idle CPU row %+v, want the medians 3.00 against 2.00 µs/s, ratio 1.50 (1.00–2.00), met", net)
	}
	if md := r.Markdown(); !strings.Contains(md, "| hold | idle: the gateways' own CPU with the sale open and nobody connected (before the crowd) | 10 ms of CPU over 10 s ·") {
		t.Errorf("the report lacks the empty node's figures:\n%s", md)
	}
	// A run that measured no idle window has no idle row.
	for _, row := range (&Report{Rounds: []Round{unmeasured}}).Rows() {
		if strings.HasPrefix(row.What, "CPU per held shopper, idle") {
			t.Errorf("an idle row without an idle window: %+v", row)
		}
	}
}

// The memory target is against a bare server tuned as the gateway
// is (its buffer sizes): by RSS of the first round, and by heap and stacks,
// beside the rows against the library's defaults.
func TestMemoryIsSetAgainstTheBareServerWithFoyersBufferSizes(t *testing.T) {
	rd := round(4000, 1600)
	rd.Bare.RSSPerConnection = 20_000
	rd.Tuned = BareResult{Tuned: true, Connections: 1000, BytesPerConnection: 5_000, RSSPerConnection: 10_000}
	rd.Hold.GatewayBefore.RSSBytes = 50e6
	rd.Hold.GatewayHeld.RSSBytes = 50e6 + 1000*12_000
	later := rd
	later.Hold.GatewayBefore.RSSBytes, later.Hold.GatewayHeld.RSSBytes = 300e6, 301e6
	r := Report{Rounds: []Round{rd, later}}
	rss := rowNamed(t, r, "memory per idle shopper by RSS vs a bare server with Foyer's buffer sizes")
	if rss.Foyer != "12000 B" || rss.Baseline != "10000 B" || rss.Ratio != 1.2 || len(rss.Rounds) != 1 || rss.Met || rss.Target != "<= 1.00" {
		t.Errorf("tuned RSS row %+v, want the first round's 12000 B against 10000 B, 1.20, not met (at most 1.00)", rss)
	}
	heap := rowNamed(t, r, "memory per idle shopper (Go heap + stacks) vs a bare server with Foyer's buffer sizes")
	if heap.Foyer != "8000 B" || heap.Baseline != "5000 B" || heap.Ratio != 1.6 || len(heap.Rounds) != 2 {
		t.Errorf("tuned heap row %+v, want 8000 B against 5000 B, 1.60 in both rounds", heap)
	}
	// The default-buffer rows stay as they were.
	if def := rowNamed(t, r, "memory per idle shopper (RSS, first round)"); def.Baseline != "20000 B" || def.Ratio != 0.6 {
		t.Errorf("default RSS row %+v, want 12000 B against 20000 B, 0.60", def)
	}
	if md := r.Markdown(); !strings.Contains(md, "| bare, Foyer's buffer sizes | memory per connection: heap + stacks / RSS | 5000 B / 10000 B · 5000 B / 10000 B |") {
		t.Errorf("the report lacks the tuned bare server's memory:\n%s", md)
	}
}

// A bench that would need more sockets of one process than the machine
// gives it is refused, with the nodes or processes it would take; a
// 100,000-shopper hold over six gateways fits.
func TestACrowdIsSpreadSoNoProcessHoldsMoreThanItCan(t *testing.T) {
	fits := Options{Rounds: 1, Nodes: 6, Shoppers: 100_000, BarePerServer: barePerProcess}
	if err := checkFlags(&fits, false, ""); err != nil {
		t.Fatalf("100,000 shoppers over 6 gateways: %v", err)
	}
	if procs := procsFor(100_000, 6); procs != 6 || (100_000+procs-1)/procs > playerCeiling {
		t.Errorf("100,000 shoppers over 6 gateways are played by %d processes, want 6 of at most %d", procs, playerCeiling)
	}
	if procs := procsFor(100_000, 2); (100_000+procs-1)/procs > playerCeiling {
		t.Errorf("procsFor(100000, 2) = %d: more than %d a process", procs, playerCeiling)
	}
	for name, o := range map[string]Options{
		"100,000 over 5 gateways":        {Rounds: 1, Nodes: 5, Shoppers: 100_000},
		"20,000 from one player":         {Rounds: 1, Nodes: 2, Shoppers: 20_000, Procs: 1},
		"a bare server past its sockets": {Rounds: 1, Nodes: 1, Shoppers: 10, BarePerServer: 20_000},
		"a sale crowd past one gateway":  {Rounds: 1, Nodes: 1, Shoppers: 10, SaleShoppers: 18_001},
		"no gateway":                     {Rounds: 1, Nodes: 0, Shoppers: 10},
	} {
		if err := checkFlags(&o, false, ""); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if err := checkFlags(&Options{Rounds: 1, Nodes: 5, Shoppers: 100_000}, false, ""); err == nil ||
		!strings.Contains(err.Error(), "-nodes 6 or more") {
		t.Errorf("100,000 over 5 gateways: %v, want it to ask for 6", err)
	}
}
