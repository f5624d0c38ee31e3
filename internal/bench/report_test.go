package bench

import "testing"

func TestComponentLinesAreReadWithTheirMetrics(t *testing.T) {
	got := parseComponents([]byte("goos: linux\n" +
		"BenchmarkAdmission-2   \t       1\t2161963983 ns/op\t     60387 admitted/s\t    197634 baseline-admitted/s\t         0.3056 ratio\n" +
		"BenchmarkUpdateTick/waiting=10000-2  20  260000 ns/op  2.000 redis-trips/tick\n" +
		"--- BENCH: BenchmarkX\nPASS\nok  \tgithub.com/foyerhq/foyer/waitingroom\t13.2s\n"))
	if len(got) != 2 {
		t.Fatalf("read %d benchmark lines, want 2: %+v", len(got), got)
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
