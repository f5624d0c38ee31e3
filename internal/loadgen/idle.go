package loadgen

import (
	"context"
	"time"

	"github.com/foyerhq/foyer/internal/clock"
)

// A hold with IdleFor measures what the held crowd costs the gateways when
// nothing happens: once everyone has joined, no probe is sent and no
// collection forced for IdleLead + IdleFor, and the gateways' CPU is read
// over the last IdleFor. The shoppers still ping (Options.PingEvery): that
// is what an idle crowd sends.

// IdleLead is how long the quiet waits before its CPU is read: the joins'
// tail (the players' pooled HTTP connections closing after their two
// seconds idle, the gateways' last collection of the joins' garbage) is not
// idle work. The bench's bare baseline waits as long before its own window.
const IdleLead = 3 * time.Second

// IdleCPU is the gateways' CPU over a quiet window of a hold.
type IdleCPU struct {
	Connections float64       // shoppers the gateways held at the window's start
	Window      time.Duration // how long the window lasted, by the bench's clock
	CPU         time.Duration // the gateways' CPU over it, all of them
}

// PerConnectionPerSecond is the CPU each held connection cost per second
// of the window, in CPU seconds; zero when nothing was measured.
func (i IdleCPU) PerConnectionPerSecond() float64 {
	if i.Connections <= 0 || i.Window <= 0 {
		return 0
	}
	return i.CPU.Seconds() / i.Connections / i.Window.Seconds()
}

// quiet is how long a hold stays quiet once everyone has joined.
func (o Options) quiet() time.Duration {
	if o.IdleFor <= 0 || !holding(o.Scenario) {
		return 0
	}
	return IdleLead + o.IdleFor
}

// MeasureIdle reads the CPU of the servers whose metrics are at urls over
// window, after lead: the same reading for Foyer's gateways and the bench's
// bare servers. Readings ask for no collection, which would be CPU of their own.
func MeasureIdle(ctx context.Context, urls []string, lead, window time.Duration) (IdleCPU, error) {
	if err := clock.Sleep(ctx, lead); err != nil {
		return IdleCPU{}, err
	}
	before, err := ScrapeGateways(ctx, urls, false)
	if err != nil {
		return IdleCPU{}, err
	}
	began := time.Now()
	if err := clock.Sleep(ctx, window); err != nil {
		return IdleCPU{}, err
	}
	after, err := ScrapeGateways(ctx, urls, false)
	if err != nil {
		return IdleCPU{}, err
	}
	return IdleCPU{Connections: before.Connections, Window: time.Since(began), CPU: after.CPUSince(before)}, nil
}

// measureIdle is a hold's idle window: from the moment every shopper has
// joined, MeasureIdle over the gateways.
func measureIdle(ctx context.Context, o Options, total func() Progress) IdleCPU {
	poll := time.NewTicker(50 * time.Millisecond)
	defer poll.Stop()
	for !settled(total(), o.Shoppers) {
		select {
		case <-ctx.Done():
			return IdleCPU{}
		case <-poll.C:
		}
	}
	idle, err := MeasureIdle(ctx, o.MetricsURLs, IdleLead, o.IdleFor)
	if err != nil {
		return IdleCPU{}
	}
	return idle
}
