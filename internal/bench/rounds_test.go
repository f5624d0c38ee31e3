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
