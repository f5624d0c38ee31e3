package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestBenchMeasuresFoyerNextToItsCeiling runs a small `foyer-bench bench`
// as `make bench` runs it: the gateways and the worker are processes of the
// foyer binary beside foyer-bench, found there with no flag; the bare
// servers, their crowds and the load generator's players are processes of
// foyer-bench.
func TestBenchMeasuresFoyerNextToItsCeiling(t *testing.T) {
	bin := buildBoth(t)
	out := t.TempDir()
	components := filepath.Join(out, "components.txt")
	err := os.WriteFile(components, []byte("goos: linux\n"+
		"BenchmarkAdmission-2   1   123 ns/op   30000 admitted/s   150000 baseline-admitted/s   0.2000 ratio\n"+
		"BenchmarkOrderPipeline-2   1   5 ns/op   16000 batched-orders/s   32000 raw-copy-orders/s   0.5000 batched/raw\nPASS\n"), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	// Two bare servers of 150, each with its crowd of clients: the baseline
	// is spread over processes as Foyer's crowd is.
	// Two rounds of bare then Foyer; the sale profiled for a second; the
	// sustained rate stepped twice with a small crowd.
	// A quiet window of two seconds in each round, both crowds pinging
	// every two seconds: a ping every second is exactly a connection's
	// budget (10 in 10 s, fixed windows), and on a starved machine two
	// pings a late tick brought together made the eleventh of a window.
	cmd := exec.Command(bin, "bench", "-shoppers", "300", "-nodes", "2", "-hold-for", "4s", "-bare-per-server", "150",
		"-idle-for", "2s", "-ping-every", "2s",
		"-rounds", "2", "-slow-shoppers", "40", "-sale-shoppers", "60", "-sale-stock", "20", "-sale-profile", "1s",
		"-sustained", "-sustained-shoppers", "60", "-sustained-steps", "100,200", "-components", components, "-out", out)
	cmd.Dir = t.TempDir()
	cmd.Env = os.Environ()
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("foyer-bench bench: %v\n%s", err, stdout)
	}
	md, err := os.ReadFile(filepath.Join(out, "bench.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"join rate", "fan-out", "memory per idle shopper", "admission", "order pipeline"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("bench.md has no row for %q:\n%s", want, md)
		}
	}
	raw, err := os.ReadFile(filepath.Join(out, "bench.json"))
	if err != nil {
		t.Fatal(err)
	}
	type result struct {
		Held, Paid, SoldOut, Errors int64
		ErrorCodes                  map[string]int64
		CheckoutLatency             struct{ Count int }
		Idle                        struct{ Connections, Window float64 }
	}
	type bare struct {
		Servers, Connections int
		Tuned                bool
		Idle                 struct{ Connections, Window float64 }
	}
	var report struct {
		Rounds []struct {
			Hold  result
			Bare  bare
			Tuned bare
		}
		Slow result
		Sale struct {
			Result       result
			LoadgenCPU   int64
			Pushes       *struct{ Samples int64 }
			ProfileError string
		}
		Steps []struct {
			Outflow    float64
			Result     result
			Latecomers *result
			WorkerCPU  int64
			LoadgenCPU int64
			NewsWrites float64
		}
		Summary []struct {
			What   string
			Ratio  float64
			Rounds []float64
		}
	}
	if err := json.Unmarshal(raw, &report); err != nil {
		t.Fatal(err)
	}
	if len(report.Rounds) != 2 {
		t.Fatalf("%d rounds, want 2", len(report.Rounds))
	}
	for k, rd := range report.Rounds {
		if rd.Hold.Held != 300 || rd.Hold.Errors != 0 || rd.Bare.Connections != 300 || rd.Bare.Servers != 2 {
			t.Errorf("round %d: hold held %d with %d errors %v, bare held %d on %d servers; want 300, 0, 300 on 2",
				k+1, rd.Hold.Held, rd.Hold.Errors, rd.Hold.ErrorCodes, rd.Bare.Connections, rd.Bare.Servers)
		}
		if !rd.Tuned.Tuned || rd.Tuned.Connections != 300 || rd.Tuned.Servers != 2 {
			t.Errorf("round %d: the bare server with Foyer's buffers %+v, want tuned, 300 on 2", k+1, rd.Tuned)
		}
		// Both sides kept quiet for the window, every connection held.
		if rd.Hold.Idle.Connections != 300 || rd.Hold.Idle.Window < 2e9 || rd.Bare.Idle.Connections != 300 || rd.Bare.Idle.Window < 2e9 {
			t.Errorf("round %d: idle windows, hold %+v and bare %+v; want 300 held over at least 2 s each", k+1, rd.Hold.Idle, rd.Bare.Idle)
		}
	}
	sale := report.Sale.Result
	if report.Slow.Held != 40 || sale.Paid != 20 || sale.SoldOut != 40 || sale.Errors != 0 || sale.CheckoutLatency.Count != 20 {
		t.Errorf("slow held %d; sale paid %d, sold out %d, errors %d, checkouts timed %d; want 40; 20, 40, 0, 20",
			report.Slow.Held, sale.Paid, sale.SoldOut, sale.Errors, sale.CheckoutLatency.Count)
	}
	if report.Sale.LoadgenCPU <= 0 {
		t.Error("the sale's load generator CPU was not read")
	}
	// The profile is taken and read; a sale this small may be over before
	// the gateway has used a sample's worth of CPU, so its samples may be
	// none.
	if report.Sale.Pushes == nil || report.Sale.ProfileError != "" {
		t.Errorf("no profile of the sale's gateway (%q)", report.Sale.ProfileError)
	}
	if len(report.Steps) != 2 || report.Steps[1].Outflow != 200 {
		t.Fatalf("steps %+v, want outflows 100 and 200", report.Steps)
	}
	for _, st := range report.Steps {
		if st.Result.Paid != 60 || st.Result.Errors != 0 || st.WorkerCPU <= 0 || st.LoadgenCPU <= 0 {
			t.Errorf("step at %v/s: paid %d, errors %d, worker CPU %d, load generator CPU %d; want 60 paid, no error, both CPUs read",
				st.Outflow, st.Result.Paid, st.Result.Errors, st.WorkerCPU, st.LoadgenCPU)
		}
		// Each of the 66 who bought was written its admission and its
		// order at least: the gateways' write counters were read.
		if st.NewsWrites < 2*66 {
			t.Errorf("step at %v/s: %v news writes read from the gateways, want at least %d", st.Outflow, st.NewsWrites, 2*66)
		}
		// A tenth more arrive while the sale moves, and buy too.
		if l := st.Latecomers; l == nil || l.Paid != 6 || l.Errors != 0 {
			t.Errorf("step at %v/s: latecomers %+v, want 6 paid without error", st.Outflow, l)
		}
	}
	for _, row := range report.Summary {
		rounds := 2
		if strings.Contains(row.What, "first round") {
			rounds = 1 // the gateways keep the first round's memory: a later round's says nothing
		}
		if strings.HasPrefix(row.What, "join rate") || strings.HasPrefix(row.What, "fan-out") || strings.HasPrefix(row.What, "memory") {
			if row.Ratio <= 0 || len(row.Rounds) != rounds {
				t.Errorf("%s: ratio %v over rounds %v, want a measured one in each of %d rounds", row.What, row.Ratio, row.Rounds, rounds)
			}
		}
	}
	for _, want := range []string{"sustained sale rate", "CPU per join, server side", "checkout answer",
		"CPU per held shopper, idle (a ping every 2 s)", "vs a bare server with Foyer's buffer sizes", "load generator"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("bench.md has no %q", want)
		}
	}
	t.Logf("%s", md)
}
