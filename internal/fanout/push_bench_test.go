package fanout

import (
	"math/rand/v2"
	"testing"

	"github.com/foyerhq/foyer/waitingroom"
)

// BenchmarkFarBackPushes: a big sale's ticks, 100,000 waiting and 500 let
// out a second, for a minute. It reports the tabs told their position per
// tick against those whose position fell (each of which the room told
// before: the baseline, counted in the same ticks), and the ratio.
//
//	go test -run '^$' -bench FarBackPushes -benchtime 1x ./internal/fanout
func BenchmarkFarBackPushes(b *testing.B) {
	const waiting, outflow, ticks = 100_000, 500, 60
	for range b.N {
		b.StopTimer()
		r, tabs := roomOfWaiting(waiting)
		b.StartTimer()
		var told, fell int
		last := make([]int64, waiting)
		for tick := range ticks {
			r.positions.Admitted(int64(tick * outflow))
			for i, c := range tabs {
				if pos := r.positions.Of(c.ticket); pos > 0 && (c.lastPos == 0 || pos < c.lastPos) {
					fell++
				}
				last[i] = c.lastPos
			}
			mark := r.positions.Mark()
			r.push(waitingroom.Status{State: waitingroom.StateOpen, Stock: waiting, Available: waiting - mark, Waiting: waiting - mark})
			for i, c := range tabs {
				if c.lastPos != last[i] {
					told++
				}
				c.queue = nil
			}
		}
		b.ReportMetric(float64(told)/ticks, "told/tick")
		b.ReportMetric(float64(fell)/ticks, "fell/tick")
		b.ReportMetric(float64(told)/float64(fell), "ratio")
	}
}

// BenchmarkAFastQueuesPushes: the bench's sustained sale, 15,000 waiting
// in a paused sale resumed at 1,000 a second until the queue is empty. It
// reports the tabs told their position per tick against those whose
// position fell (each of which a push each second tells: the baseline,
// counted in the same ticks), and the ratio: what counting positions down
// (fall.go) saves; and the tabs written per tick, the resumption's tick
// included (its state goes to every tab, and its position with it).
//
//	go test -run '^$' -bench FastQueuesPushes -benchtime 1x ./internal/fanout
func BenchmarkAFastQueuesPushes(b *testing.B) {
	const waiting, outflow = 15_000, 1_000
	for range b.N {
		n := playResumedSale(b, waiting, outflow, func(mark int64) int64 { return mark + outflow })
		b.ReportMetric(float64(n.told)/float64(n.ticks), "told/tick")
		b.ReportMetric(float64(n.fell)/float64(n.ticks), "fell/tick")
		b.ReportMetric(float64(n.told)/float64(n.fell), "ratio")
		b.ReportMetric(float64(n.written)/float64(n.ticks), "written/tick")
	}
}

// BenchmarkJitteryQueuePushes: the bench's 2,000-a-second step on a busy
// machine, 15,000 waiting in a paused sale resumed at 2,000 a second, the
// queue let out a quarter of the rate more or less each tick (the
// admitter's batches, the admissions' events applied late). It reports
// the tabs written per tick, the resumption's included, against the
// waiting tabs whose position fell (each of which a push each second
// wrote: the baseline, counted in the same ticks), and the ratio.
//
//	go test -run '^$' -bench JitteryQueuePushes -benchtime 1x ./internal/fanout
func BenchmarkJitteryQueuePushes(b *testing.B) {
	const waiting, outflow, jitter = 15_000, 2_000, 500
	for range b.N {
		rng := rand.New(rand.NewPCG(1, 2))
		n := playResumedSale(b, waiting, outflow, func(mark int64) int64 { return mark + outflow + rng.Int64N(2*jitter) - jitter })
		b.ReportMetric(float64(n.written)/float64(n.ticks), "written/tick")
		b.ReportMetric(float64(n.fell)/float64(n.ticks), "fell/tick")
		b.ReportMetric(float64(n.written)/float64(n.fell), "ratio")
	}
}

// pushCounts is what a played sale's ticks told its tabs: the tabs told a
// new position, those whose position fell, those written anything.
type pushCounts struct{ ticks, told, fell, written int }

// playResumedSale plays a paused sale of waiting tabs resumed at outflow a
// second, the queue let out to next(mark) at each tick until empty, and
// counts what the ticks told; only the ticks are timed.
func playResumedSale(b *testing.B, waiting, outflow int64, next func(mark int64) int64) pushCounts {
	b.StopTimer()
	r, tabs := roomOfWaiting(int(waiting))
	r.push(waitingroom.Status{State: waitingroom.StatePaused, Stock: waiting, Available: waiting, Waiting: waiting, Rate: float64(outflow)})
	for _, c := range tabs {
		c.queue = nil
	}
	b.StartTimer()
	var n pushCounts
	last := make([]int64, waiting)
	for mark := int64(0); mark < waiting; mark = min(waiting, next(mark)) {
		n.ticks++
		r.positions.Admitted(mark)
		for i, c := range tabs {
			if pos := r.positions.Of(c.ticket); pos > 0 && pos < c.lastPos {
				n.fell++
			} else if pos <= 0 {
				c.status = connAdmitted // as its admission's event tells the room
			}
			last[i] = c.lastPos
		}
		r.push(waitingroom.Status{State: waitingroom.StateOpen, Stock: waiting, Available: waiting - mark, Waiting: waiting - mark, Rate: float64(outflow)})
		for i, c := range tabs {
			if c.lastPos != last[i] && c.lastPos > 0 {
				n.told++
			}
			if len(c.queue) > 0 {
				n.written++
			}
			c.queue = nil
		}
	}
	return n
}

// roomOfWaiting is a bare room of n waiting tabs, tickets 1 to n, whose
// messages stay queued.
func roomOfWaiting(n int) (*Room, []*Conn) {
	r := bareRoom(&testing.T{})
	tabs := make([]*Conn, n)
	for i := range tabs {
		c := &Conn{shopper: "v", status: connWaiting, ticket: int64(i + 1), held: true, metrics: r.h.metrics, told: r.state}
		r.conns[c] = struct{}{}
		tabs[i] = c
	}
	return r, tabs
}
