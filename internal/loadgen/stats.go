package loadgen

import (
	"maps"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// counters are the live totals of a run. The shopper goroutines add to them
// and the progress line reads them while the run goes on, so every field is
// atomic or guarded.
type counters struct {
	connected atomic.Int64 // WebSockets opened (welcome received)
	joined    atomic.Int64 // joins answered (position, prequeue or admitted)
	admitted  atomic.Int64 // admitted messages received
	paid      atomic.Int64 // orders whose status reached paid
	cancelled atomic.Int64 // orders cancelled (payment failed or timed out)
	soldOut   atomic.Int64 // shoppers told the sale sold out before their turn
	expired   atomic.Int64 // holds that lapsed before the order
	held      atomic.Int64 // connections still open when the run stopped
	retried   atomic.Int64 // joins told busy or rate_limited, and sent again

	mu     sync.Mutex
	errors map[string]int64 // by error code
}

// fail counts one error under its code.
func (c *counters) fail(code string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.errors == nil {
		c.errors = make(map[string]int64)
	}
	c.errors[code]++
}

// errorCounts returns a copy of the errors by code and their total.
func (c *counters) errorCounts() (map[string]int64, int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var total int64
	for _, n := range c.errors {
		total += n
	}
	return maps.Clone(c.errors), total
}

// latencies records durations from many goroutines, for percentiles at the end.
type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *latencies) add(d time.Duration) {
	l.mu.Lock()
	l.d = append(l.d, d)
	l.mu.Unlock()
}

// all returns a copy of the recorded durations.
func (l *latencies) all() []time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.d)
}

// LatencySummary describes a set of measured durations. All are zero when
// nothing was measured.
type LatencySummary struct {
	Count int
	P50   time.Duration
	P95   time.Duration
	P99   time.Duration
	Max   time.Duration
}

// Summarize computes the summary of ds without changing it.
func Summarize(ds []time.Duration) LatencySummary {
	if len(ds) == 0 {
		return LatencySummary{}
	}
	sorted := slices.Clone(ds)
	slices.Sort(sorted)
	return LatencySummary{
		Count: len(sorted),
		P50:   percentile(sorted, 50),
		P95:   percentile(sorted, 95),
		P99:   percentile(sorted, 99),
		Max:   sorted[len(sorted)-1],
	}
}

// percentile is the nearest-rank percentile p (0 < p <= 100) of sorted,
// which must be sorted ascending and not empty: the smallest value that at
// least p percent of the values are at or below. It is always one of the
// measured values, never an interpolation.
func percentile(sorted []time.Duration, p float64) time.Duration {
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

// perSecond is n events over d, or zero when d is not positive.
func perSecond(n int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}
