package bench

import (
	"fmt"
	"slices"
	"time"

	"github.com/foyerhq/foyer/internal/loadgen"
)

// The ratios of Foyer to the bare server are measured in rounds, each the
// bare baseline then Foyer (A B A B ...), so that the shared machine's
// swings fall on both sides. Each ratio is reported as the median of its
// rounds, with their spread.

// Round is one alternation: the bare baseline, then Foyer holding as many
// shoppers on a fresh sale of the same cluster.
type Round struct {
	Bare BareResult
	// Tuned is the bare baseline with the gateway's buffer sizes, measured
	// for memory (its idle CPU is not read).
	Tuned BareResult
	Hold  loadgen.Result
	// Empty is the gateways' CPU over a window as long as the idle one
	// with the round's sale open and nobody connected: the node's own
	// beat (the admitter's ticks, heartbeats), which the idle window holds
	// too and which no shopper adds.
	Empty loadgen.IdleCPU
	// RedisJoinCPU is the CPU Redis used while the hold's shoppers joined
	// (to the moment all had).
	RedisJoinCPU time.Duration
	// RedisJoinReads is how many reads Redis served meanwhile: its round
	// trips, the nodes' own work (heartbeats, event reads) included.
	RedisJoinReads float64
	// RedisCommandsPerSecond is Redis's rate of commands while everyone
	// was held: the hot path must not grow with the number waiting.
	RedisCommandsPerSecond float64
}

// idleNet is what each held shopper added to the gateways' CPU per second
// of the idle window: the window's CPU less the empty node's at the same
// pace, over the shoppers held. Zero where either was not measured.
func (rd Round) idleNet() float64 {
	if rd.Hold.Idle.Connections <= 0 || rd.Hold.Idle.Window <= 0 || rd.Empty.Window <= 0 {
		return 0
	}
	perSecond := rd.Hold.Idle.CPU.Seconds()/rd.Hold.Idle.Window.Seconds() - rd.Empty.CPU.Seconds()/rd.Empty.Window.Seconds()
	return max(perSecond, 0) / rd.Hold.Idle.Connections
}

// perAccept is the bare server's and its clients' CPU per connection accepted.
func (b BareResult) perAccept() (client, server time.Duration) {
	if b.Connections == 0 {
		return 0, 0
	}
	n := time.Duration(b.Connections)
	return b.ClientCPU / n, b.ServerCPU / n
}

// joinCPU is the CPU one join of the round's hold cost the load generator,
// the gateways and Redis; zero where a part was not measured.
func (rd Round) joinCPU() (loadgenCPU, gateways, redis time.Duration) {
	loadgenCPU, gateways = rd.Hold.CPUPerJoin()
	if loadgenCPU == 0 || gateways == 0 || rd.RedisJoinCPU == 0 {
		return 0, 0, 0
	}
	return loadgenCPU, gateways, rd.RedisJoinCPU / time.Duration(rd.Hold.Joined)
}

// seconds shows an interval as the rows name it: "5 s", "the client's own".
func seconds(d time.Duration) string {
	if d <= 0 {
		return "20 s, the client's own"
	}
	return fmt.Sprintf("%g s", d.Seconds())
}

// Spread is a figure over rounds: the median and the least and most.
type Spread struct {
	Median, Min, Max float64
}

// spreadOf is the median, least and most of xs; zero for none. The median
// of an even count is the mean of the middle two.
func spreadOf(xs []float64) Spread {
	if len(xs) == 0 {
		return Spread{}
	}
	s := slices.Sorted(slices.Values(xs))
	mid := len(s) / 2
	median := s[mid]
	if len(s)%2 == 0 {
		median = (s[mid-1] + s[mid]) / 2
	}
	return Spread{Median: median, Min: s[0], Max: s[len(s)-1]}
}

// roundFigure is one ratio of the bare baseline's rounds: how to read its
// two sides and their ratio from a round, how to show them, and its target.
type roundFigure struct {
	what string
	show func(float64) string
	// measure reads the figure of one round; ok false leaves the round
	// out. A baseline or ratio of zero means the round had none.
	measure func(Round) (foyer, baseline, ratio float64, ok bool)
	atLeast bool    // the ratio's target is a floor (else a ceiling)
	target  float64 // zero: no target on the ratio
	// absolute, when set, holds the figure's own (median) value to a
	// target instead: its text and whether it is met.
	absolute func(foyer float64) (target string, met bool)
}

// roundFigures are the ratios measured in rounds, in the table's order.
func (r *Report) roundFigures() []roundFigure {
	bytesShown := func(v float64) string { return fmt.Sprintf("%.0f B", v) }
	perSecShown := func(v float64) string { return fmt.Sprintf("%.0f/s", v) }
	usShown := func(v float64) string { return fmt.Sprintf("%.0f µs", v) }
	msShown := func(v float64) string { return fmt.Sprintf("%.0f ms", v) }
	usPerSecShown := func(v float64) string { return fmt.Sprintf("%.2f µs/s", v) }
	micro := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
	shoppers := 0
	for _, rd := range r.Rounds {
		shoppers = max(shoppers, rd.Hold.Shoppers)
	}
	return []roundFigure{
		{what: "memory per idle shopper (Go heap + stacks)", show: bytesShown, target: 1.0,
			measure: func(rd Round) (float64, float64, float64, bool) {
				bytes, _ := rd.Hold.GatewayHeld.PerConnection(rd.Hold.GatewayBefore)
				return bytes, rd.Bare.BytesPerConnection, ratio(bytes, rd.Bare.BytesPerConnection), rd.Bare.Connections > 0
			}},
		// Against the bare server tuned as the gateway is (its buffer sizes
		// and small stacks): the memory target.
		{what: "memory per idle shopper (Go heap + stacks) vs a bare server with Foyer's buffer sizes", show: bytesShown, target: 1.0,
			measure: func(rd Round) (float64, float64, float64, bool) {
				bytes, _ := rd.Hold.GatewayHeld.PerConnection(rd.Hold.GatewayBefore)
				return bytes, rd.Tuned.BytesPerConnection, ratio(bytes, rd.Tuned.BytesPerConnection), rd.Tuned.Connections > 0
			}},
		// Of the first round alone: the gateways start once, and keep what
		// a round's crowd made them take from the machine (Go gives memory
		// back to it slowly), so a later round's growth says nothing. The
		// bare servers are new each round.
		{what: "memory per idle shopper (RSS, first round)", show: bytesShown, target: 1.0,
			measure: func(rd Round) (float64, float64, float64, bool) {
				first := len(r.Rounds) > 0 && rd.Hold.GatewayBefore == r.Rounds[0].Hold.GatewayBefore
				rss := rd.Hold.GatewayHeld.RSSPerConnection(rd.Hold.GatewayBefore)
				return rss, rd.Bare.RSSPerConnection, ratio(rss, rd.Bare.RSSPerConnection), first && rd.Bare.RSSPerConnection > 0 && rss > 0
			}},
		{what: "memory per idle shopper by RSS vs a bare server with Foyer's buffer sizes (first round)", show: bytesShown, target: 1.0,
			measure: func(rd Round) (float64, float64, float64, bool) {
				first := len(r.Rounds) > 0 && rd.Hold.GatewayBefore == r.Rounds[0].Hold.GatewayBefore
				rss := rd.Hold.GatewayHeld.RSSPerConnection(rd.Hold.GatewayBefore)
				return rss, rd.Tuned.RSSPerConnection, ratio(rss, rd.Tuned.RSSPerConnection), first && rd.Tuned.RSSPerConnection > 0 && rss > 0
			}},
		// Both crowds ping alike (-ping-every) and nothing else is sent over
		// the window: what holding a quiet crowd costs the servers.
		{what: fmt.Sprintf("CPU per held shopper, idle (a ping every %s) vs the bare server's per connection", seconds(r.Options.PingEvery)),
			show: usPerSecShown, target: 2.0,
			measure: func(rd Round) (float64, float64, float64, bool) {
				foyer, bare := 1e6*rd.Hold.Idle.PerConnectionPerSecond(), 1e6*rd.Bare.Idle.PerConnectionPerSecond()
				return foyer, bare, ratio(foyer, bare), rd.Hold.Idle.Window > 0 && rd.Bare.Idle.Window > 0
			}},
		// The same, less what the gateways spend with nobody connected: what
		// each held shopper adds. The bare servers do nothing with nobody
		// connected, so theirs is taken whole.
		{what: fmt.Sprintf("CPU per held shopper, idle (a ping every %s), less the empty node's own, vs the bare server's per connection", seconds(r.Options.PingEvery)),
			show: usPerSecShown, target: 2.0,
			measure: func(rd Round) (float64, float64, float64, bool) {
				foyer, bare := 1e6*rd.idleNet(), 1e6*rd.Bare.Idle.PerConnectionPerSecond()
				return foyer, bare, ratio(foyer, bare), rd.Hold.Idle.Window > 0 && rd.Empty.Window > 0 && rd.Bare.Idle.Window > 0
			}},
		{what: "goroutines per shopper", show: func(v float64) string { return fmt.Sprintf("%.2f", v) },
			measure: func(rd Round) (float64, float64, float64, bool) {
				_, g := rd.Hold.GatewayHeld.PerConnection(rd.Hold.GatewayBefore)
				return g, rd.Bare.GoroutinesPerConnection, ratio(g, rd.Bare.GoroutinesPerConnection), rd.Bare.Connections > 0
			}},
		{what: "join rate (session + WebSocket + join answered) vs bare accepts", show: perSecShown, atLeast: true, target: 0.6,
			measure: func(rd Round) (float64, float64, float64, bool) {
				return rd.Hold.JoinsPerSecond, rd.Bare.AcceptsPerSecond, ratio(rd.Hold.JoinsPerSecond, rd.Bare.AcceptsPerSecond), rd.Bare.Connections > 0
			}},
		{what: "CPU per join, all processes (load generator + gateways + Redis) vs per bare accept (client + server)", show: usShown, atLeast: true,
			measure: func(rd Round) (float64, float64, float64, bool) {
				lg, gw, rds := rd.joinCPU()
				client, server := rd.Bare.perAccept()
				foyer, bare := micro(lg+gw+rds), micro(client+server)
				return foyer, bare, ratio(bare, foyer), lg > 0 && client+server > 0
			}},
		{what: "CPU per join, server side (gateways + Redis) vs per bare accept (bare server)", show: usShown, atLeast: true,
			measure: func(rd Round) (float64, float64, float64, bool) {
				lg, gw, rds := rd.joinCPU()
				_, server := rd.Bare.perAccept()
				foyer, bare := micro(gw+rds), micro(server)
				return foyer, bare, ratio(bare, foyer), lg > 0 && server > 0
			}},
		{what: "fan-out: a change to every held shopper (shoppers / p99)", show: perSecShown, atLeast: true, target: 0.8,
			measure: func(rd Round) (float64, float64, float64, bool) {
				foyer, bare := fanout(rd.Hold.StockPush, rd.Hold.Shoppers), fanout(rd.Bare.Push, rd.Bare.Connections)
				return foyer, bare, ratio(foyer, bare), rd.Bare.Connections > 0
			}},
		// The stock change's own target is absolute (p99 under a second at
		// 100,000 waiting), so its ceiling is the time the bare server's
		// broadcast, at its rate in this round, takes to reach as many.
		{what: fmt.Sprintf("stock change reaches %d shoppers, p99 (ceiling: as many at the bare broadcast's rate)", shoppers),
			show: msShown, atLeast: true,
			measure: func(rd Round) (float64, float64, float64, bool) {
				p99 := float64(rd.Hold.StockPush.P99) / float64(time.Millisecond)
				var least float64
				if bare := fanout(rd.Bare.Push, rd.Bare.Connections); bare > 0 && p99 > 0 {
					least = float64(rd.Hold.Shoppers) / bare * 1000
				}
				return p99, least, ratio(least, p99), true
			},
			absolute: func(p99 float64) (string, bool) {
				if shoppers < pushTargetShoppers {
					return "", false
				}
				return "p99 < 1 s", p99 > 0 && p99 < 1000
			}},
	}
}

// roundRows are the rows of the ratios measured in rounds: each side and
// the ratio are the medians of the rounds that measured them, and the
// ratio's spread is the least and most of its rounds.
func (r *Report) roundRows() []Row {
	var rows []Row
	for _, f := range r.roundFigures() {
		var foyers, bases, ratios []float64
		measured := false
		for _, rd := range r.Rounds {
			foyer, base, rt, ok := f.measure(rd)
			if !ok {
				continue
			}
			measured = true
			foyers = append(foyers, foyer)
			if base > 0 {
				bases = append(bases, base)
			}
			if rt > 0 {
				ratios = append(ratios, rt)
			}
		}
		if !measured {
			continue
		}
		row := Row{What: f.what, Foyer: f.show(spreadOf(foyers).Median), Rounds: ratios}
		if len(bases) > 0 {
			row.Baseline = f.show(spreadOf(bases).Median)
		}
		s := spreadOf(ratios)
		row.Ratio, row.Min, row.Max = s.Median, s.Min, s.Max
		switch {
		case f.absolute != nil:
			row.Target, row.Met = f.absolute(spreadOf(foyers).Median)
		case f.target > 0 && f.atLeast:
			row.Target, row.Met = fmt.Sprintf(">= %.2f", f.target), row.Ratio >= f.target
		case f.target > 0:
			row.Target, row.Met = fmt.Sprintf("<= %.2f", f.target), row.Ratio <= f.target
		}
		rows = append(rows, row)
	}
	return rows
}
