package fanout

import (
	"math"
	"time"
)

// etaWindow is how far back admissions and departures are counted to
// measure a sale's Outflow.
const etaWindow = 30 * time.Second

// etaSureAfter is how many admissions in the window make the estimate sure
// enough for a narrow range.
const etaSureAfter = 20

// Outflow measures a sale's real pace from the events a node sees: how many
// shoppers leave the front of the queue per second, and what share of
// departures from the queue are no-shows (who leave without being admitted,
// so move everyone behind them up for free).
type Outflow struct {
	admitted []stamp
	gone     []stamp
}

type stamp struct {
	at time.Time
	n  int
}

// Admitted records n shoppers let out of the front of the queue at now.
func (o *Outflow) Admitted(now time.Time, n int) { o.record(&o.admitted, now, n) }

// Gone records n shoppers who left the queue without being admitted.
func (o *Outflow) Gone(now time.Time, n int) { o.record(&o.gone, now, n) }

func (o *Outflow) record(list *[]stamp, now time.Time, n int) {
	*list = append(*list, stamp{now, n})
	cut := 0
	for cut < len(*list) && now.Sub((*list)[cut].at) > etaWindow {
		cut++
	}
	*list = (*list)[cut:]
}

func (o *Outflow) sum(list []stamp, now time.Time) (n int, since time.Time) {
	since = now
	for _, s := range list {
		if now.Sub(s.at) <= etaWindow {
			n += s.n
			if s.at.Before(since) {
				since = s.at
			}
		}
	}
	return n, since
}

// ETA is a range of seconds until a shopper's turn, as a position message
// tells it.
type ETA struct {
	Min int64 `json:"min_seconds"`
	Max int64 `json:"max_seconds"`
}

// Estimate returns the range for a shopper with ahead shoppers before it, or
// nil when the queue does not move (paused, rate unknown). configured is the
// operator's Outflow rate, used until admissions have been measured; wait is
// time that passes before the queue moves at all (the countdown to the start).
func (o *Outflow) Estimate(now time.Time, ahead int64, configured float64, wait time.Duration) *ETA {
	admitted, since := o.sum(o.admitted, now)
	gone, _ := o.sum(o.gone, now)
	rate, sure := configured, false
	if span := now.Sub(since).Seconds(); admitted > 0 && span >= 5 {
		rate, sure = float64(admitted)/span, admitted >= etaSureAfter
	}
	if rate <= 0 {
		return nil
	}
	noShow := 0.0
	if admitted+gone > 0 {
		noShow = float64(gone) / float64(admitted+gone)
	}
	queue := float64(ahead) * (1 - noShow) / rate
	low, high := 0.7, 1.5 // unsure: a wide range, wider above
	if sure {
		low, high = 0.9, 1.15
	}
	return &ETA{
		Min: int64(math.Floor(queue*low + wait.Seconds())),
		Max: int64(math.Ceil(queue*high + wait.Seconds())),
	}
}
