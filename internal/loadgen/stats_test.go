package loadgen

import (
	"testing"
	"time"
)

func ms(ns ...int) []time.Duration {
	ds := make([]time.Duration, len(ns))
	for i, n := range ns {
		ds[i] = time.Duration(n) * time.Millisecond
	}
	return ds
}

func TestLoadgenSummarizeTakesNearestRankPercentiles(t *testing.T) {
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = 100 - i // 100..1, unsorted on purpose
	}
	tests := []struct {
		name string
		in   []time.Duration
		want LatencySummary
	}{
		{"nothing measured", nil, LatencySummary{}},
		{"one value", ms(7), LatencySummary{Count: 1, P50: 7 * time.Millisecond, P95: 7 * time.Millisecond, P99: 7 * time.Millisecond, Max: 7 * time.Millisecond}},
		{"two values", ms(9, 3), LatencySummary{Count: 2, P50: 3 * time.Millisecond, P95: 9 * time.Millisecond, P99: 9 * time.Millisecond, Max: 9 * time.Millisecond}},
		{"odd count", ms(5, 1, 4, 2, 3), LatencySummary{Count: 5, P50: 3 * time.Millisecond, P95: 5 * time.Millisecond, P99: 5 * time.Millisecond, Max: 5 * time.Millisecond}},
		{"one to a hundred", ms(hundred...), LatencySummary{Count: 100, P50: 50 * time.Millisecond, P95: 95 * time.Millisecond, P99: 99 * time.Millisecond, Max: 100 * time.Millisecond}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before []time.Duration
			before = append(before, tt.in...)
			if got := Summarize(tt.in); got != tt.want {
				t.Errorf("summarize = %+v, want %+v", got, tt.want)
			}
			for i := range before {
				if before[i] != tt.in[i] {
					t.Fatal("summarize reordered its input")
				}
			}
		})
	}
}

func TestLoadgenPerSecondIsZeroWithoutTime(t *testing.T) {
	tests := []struct {
		n    int64
		d    time.Duration
		want float64
	}{
		{10, 2 * time.Second, 5},
		{3, 0, 0},
		{0, time.Second, 0},
		{1, 500 * time.Millisecond, 2},
	}
	for _, tt := range tests {
		if got := perSecond(tt.n, tt.d); got != tt.want {
			t.Errorf("perSecond(%d, %v) = %v, want %v", tt.n, tt.d, got, tt.want)
		}
	}
}

func TestLoadgenCountersSumErrorsByCode(t *testing.T) {
	var c counters
	c.fail("internal")
	c.fail("connect_failed")
	c.fail("internal")
	byCode, total := c.errorCounts()
	if total != 3 || byCode["internal"] != 2 || byCode["connect_failed"] != 1 {
		t.Errorf("errors %v, total %d", byCode, total)
	}
}

func TestSlowShoppersAreSpreadEvenlyInEveryRun(t *testing.T) {
	p := &player{cfg: playerConfig{SlowShare: 0.25}}
	for _, run := range [][2]int{{0, 40}, {17, 57}, {1000, 1100}} {
		slow := 0
		for g := run[0]; g < run[1]; g++ {
			if p.slow(g) {
				slow++
			}
		}
		if want := (run[1] - run[0]) / 4; slow != want {
			t.Errorf("shoppers %d to %d: %d slow, want %d", run[0], run[1], slow, want)
		}
	}
}
