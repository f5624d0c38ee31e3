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
	cmd := exec.Command(bin, "bench", "-shoppers", "300", "-nodes", "2", "-hold-for", "4s", "-bare-per-server", "150",
		"-slow-shoppers", "40", "-sale-shoppers", "60", "-sale-stock", "20", "-components", components, "-out", out)
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
	var report struct {
		Hold, Slow, Sale struct{ Held, Paid, SoldOut, Errors int64 }
		Bare             struct{ Servers, Connections int }
		Summary          []struct {
			What  string
			Ratio float64
		}
	}
	if err := json.Unmarshal(raw, &report); err != nil {
		t.Fatal(err)
	}
	if report.Hold.Held != 300 || report.Hold.Errors != 0 || report.Bare.Connections != 300 || report.Bare.Servers != 2 {
		t.Errorf("hold held %d with %d errors, bare held %d on %d servers; want 300, 0, 300 on 2",
			report.Hold.Held, report.Hold.Errors, report.Bare.Connections, report.Bare.Servers)
	}
	if report.Slow.Held != 40 || report.Sale.Paid != 20 || report.Sale.SoldOut != 40 || report.Sale.Errors != 0 {
		t.Errorf("slow held %d; sale paid %d, sold out %d, errors %d; want 40; 20, 40, 0",
			report.Slow.Held, report.Sale.Paid, report.Sale.SoldOut, report.Sale.Errors)
	}
	for _, row := range report.Summary {
		if strings.HasPrefix(row.What, "join rate") || strings.HasPrefix(row.What, "fan-out") || strings.HasPrefix(row.What, "memory") {
			if row.Ratio <= 0 {
				t.Errorf("%s: ratio %v, want a measured one", row.What, row.Ratio)
			}
		}
	}
	t.Logf("%s", md)
}
