package loadgen

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestPartialsOfSeveralPlayersAddUp(t *testing.T) {
	at := func(ms int64) int64 { return time.UnixMilli(ms).UnixNano() }
	var all Partial
	all.merge(Partial{Connected: 2, Joined: 2, Retried: 1, ErrorCodes: map[string]int64{"busy": 1},
		JoinLatency: []time.Duration{time.Millisecond}, StockSeen: map[int64][]int64{11: {at(1100)}},
		FirstJoin: at(1000), LastJoinReply: at(1500), JoinCPU: 2 * time.Millisecond})
	all.merge(Partial{Connected: 3, Joined: 3, ErrorCodes: map[string]int64{"busy": 2, "close_4009": 1},
		JoinLatency: []time.Duration{3 * time.Millisecond}, StockSeen: map[int64][]int64{11: {at(1300)}, 12: {at(2000)}},
		FirstJoin: at(900), LastJoinReply: at(1400), JoinCPU: 3 * time.Millisecond})
	if all.Connected != 5 || all.Joined != 5 || all.Retried != 1 || all.ErrorCodes["busy"] != 3 || len(all.JoinLatency) != 2 {
		t.Errorf("merged %+v", all)
	}
	if all.FirstJoin != at(900) || all.LastJoinReply != at(1500) {
		t.Errorf("marks %d..%d, want the earliest first join and the latest reply", all.FirstJoin, all.LastJoinReply)
	}
	// Only totals the prober set are its probes: 11 was set at 1000 ms,
	// 12 by someone else.
	got := all.stockLatencies(map[int64]time.Time{11: time.UnixMilli(1000)})
	if len(got) != 2 || got[0]+got[1] != 400*time.Millisecond {
		t.Errorf("stock latencies %v, want 100 ms and 300 ms", got)
	}
	res := all.result(Options{Scenario: Hold, Shoppers: 5, Procs: 2, URLs: []string{"a"}}, time.Second, nil)
	if res.Errors != 4 || res.JoinsPerSecond != 5/0.6 {
		t.Errorf("errors %d, joins/s %v; want 4 and 5 over 0.6 s", res.Errors, res.JoinsPerSecond)
	}
	// The players' CPU adds up; the nodes' is what they used from before
	// the run until everyone had joined.
	res.GatewayBefore.CPUSeconds, res.GatewaySettled.CPUSeconds = 10, 10.02
	loadgenCPU, gateways := res.CPUPerJoin()
	if loadgenCPU != time.Millisecond || gateways < 3999*time.Microsecond || gateways > 4001*time.Microsecond {
		t.Errorf("CPU per join: load generator %v, gateways %v; want 1 ms and 4 ms", loadgenCPU, gateways)
	}
	// One player that ended before its shoppers had all joined makes the
	// load generator's figure unknown, not smaller.
	all.merge(Partial{JoinCPUUnknown: true})
	if res := all.result(Options{Scenario: Hold, Shoppers: 5, URLs: []string{"a"}}, time.Second, nil); res.JoinCPU != 0 {
		t.Errorf("JoinCPU %v with a player's figure missing, want none", res.JoinCPU)
	}
}

// A checkout's answer (the HTTP response) is its own latency, summarized
// over every player, beside the admission-to-paid one that waits for the
// order.
func TestCheckoutAnswersOfSeveralPlayersAreSummarizedApartFromTheOrder(t *testing.T) {
	var all Partial
	at := func(ms int64) int64 { return time.UnixMilli(ms).UnixNano() }
	all.merge(Partial{Paid: 1, Checkout: ms(40), AdmitToPaid: ms(900), FirstAdmit: at(1000), FirstPaid: at(1900), LastPaid: at(1900)})
	all.merge(Partial{Paid: 2, Checkout: ms(10, 20), AdmitToPaid: ms(700, 800), FirstAdmit: at(1100), FirstPaid: at(1800), LastPaid: at(2400)})
	res := all.result(Options{Scenario: Sale, Shoppers: 3, URLs: []string{"a"}}, time.Second, nil)
	want := LatencySummary{Count: 3, P50: 20 * time.Millisecond, P95: 40 * time.Millisecond, P99: 40 * time.Millisecond, Max: 40 * time.Millisecond}
	if res.CheckoutLatency != want {
		t.Errorf("checkout latency %+v, want %+v", res.CheckoutLatency, want)
	}
	if res.AdmitToPaid.P50 != 800*time.Millisecond {
		t.Errorf("admission to paid p50 %v, want 800 ms: the order's latency, not the checkout's", res.AdmitToPaid.P50)
	}
	// Three orders paid from 1.8 s to 2.4 s: 5 a second as a stream; 2 a
	// second from the first admission, one latency included.
	if res.PaidPerSecond != 3/0.6 || res.OrdersPerSecond != 3/1.4 {
		t.Errorf("paid per second %v, orders per second %v; want 3 over 0.6 s and 3 over 1.4 s", res.PaidPerSecond, res.OrdersPerSecond)
	}
	var table bytes.Buffer
	if err := WriteTable(&table, res); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"checkout_latency_p95", "join_latency_p95"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("the table has no %s:\n%s", want, table.String())
		}
	}
}

// The players' CPU from the start of play to its end adds up, and what
// came after the joins is the rest of it; unknown where either is.
func TestThePlayersCPUAfterTheirJoinsIsTheirPlayLessTheJoins(t *testing.T) {
	var all Partial
	all.merge(Partial{Joined: 1, JoinCPU: 2 * time.Millisecond, PlayCPU: 10 * time.Millisecond})
	all.merge(Partial{Joined: 1, JoinCPU: 3 * time.Millisecond, PlayCPU: 7 * time.Millisecond})
	res := all.result(Options{Scenario: Sale, Shoppers: 2, URLs: []string{"a"}}, time.Second, nil)
	if res.PlayCPU != 17*time.Millisecond || res.CPUAfterJoin() != 12*time.Millisecond {
		t.Errorf("play CPU %v, after the joins %v; want 17 ms and 12 ms", res.PlayCPU, res.CPUAfterJoin())
	}
	all.merge(Partial{JoinCPUUnknown: true})
	if res := all.result(Options{Scenario: Sale, Shoppers: 2, URLs: []string{"a"}}, time.Second, nil); res.CPUAfterJoin() != 0 {
		t.Errorf("CPU after the joins %v with the joins' CPU unknown, want none", res.CPUAfterJoin())
	}
}

// Only a hold asked for an idle window keeps quiet, for the lead and the
// window; the probes and the hold wait it out.
func TestAHoldKeepsQuietForItsIdleWindowAndNothingElseDoes(t *testing.T) {
	tests := []struct {
		o    Options
		want time.Duration
	}{
		{Options{Scenario: Hold, IdleFor: 10 * time.Second}, IdleLead + 10*time.Second},
		{Options{Scenario: Hold}, 0},
		{Options{Scenario: Sale, IdleFor: 10 * time.Second}, 0},
		{Options{Scenario: Storm, IdleFor: 10 * time.Second}, 0},
	}
	for _, tt := range tests {
		if got := tt.o.quiet(); got != tt.want {
			t.Errorf("%s with IdleFor %s: quiet %s, want %s", tt.o.Scenario, tt.o.IdleFor, got, tt.want)
		}
	}
	if _, err := (Options{URLs: []string{"a"}, SaleID: "s", Scenario: Hold, Shoppers: 1, PingEvery: -time.Second}).withDefaults(); err == nil {
		t.Error("a negative ping interval was accepted")
	}
	if cfg := (Options{Shoppers: 4, Procs: 2, PingEvery: 5 * time.Second}).player(1); cfg.PingEvery != 5*time.Second {
		t.Errorf("a player's ping interval %s, want the run's 5s", cfg.PingEvery)
	}
}
