package loadgen

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/foyerhq/foyer/internal/clock"
)

// playing is a player at work, in this process or in a child process.
type playing interface {
	// progress is its latest live counts.
	progress() Progress
	// wait waits for its end and returns what it measured.
	wait() (Partial, error)
}

// Run plays o.Shoppers shoppers in o.Scenario until every one of them has
// ended or o.Duration has passed, and returns what they measured. A
// cancelled ctx stops the run early; Run still returns what was measured.
func Run(ctx context.Context, o Options) (Result, error) {
	o, err := o.withDefaults()
	if err != nil {
		return Result{}, fmt.Errorf("loadgen: %w", err)
	}
	start := time.Now()
	res := Result{}
	// Players stop at the end of playCtx: their own Duration, or HoldFor
	// after everyone joined.
	playCtx, endPlay := context.WithCancel(ctx)
	defer endPlay()
	// The gateways' metrics are optional: their ops ports may be out of
	// reach, and the run is still worth its other figures.
	before, metricsErr := ScrapeGateways(ctx, o.MetricsURLs, true)

	var players []playing
	if o.Procs == 1 && !o.Apart {
		p, err := newPlayer(o.player(0))
		if err != nil {
			return Result{}, fmt.Errorf("loadgen: %w", err)
		}
		players = append(players, startLocal(playCtx, p))
	} else {
		for k := range o.Procs {
			c, err := startChild(playCtx, o, k)
			if err != nil {
				for _, started := range players {
					started.wait()
				}
				return Result{}, fmt.Errorf("loadgen: start player %d: %w", k, err)
			}
			players = append(players, c)
		}
	}
	total := func() Progress {
		var sum Progress
		for _, p := range players {
			sum = sum.plus(p.progress())
		}
		return sum
	}

	// The watchers end when the players do.
	watchCtx, stopWatching := context.WithCancel(ctx)
	var watchers sync.WaitGroup
	var extra counters // errors seen by this process: probes
	prb := &prober{o: o, start: start, settled: func() bool { return settled(total(), o.Shoppers) }, fail: extra.fail, stockSetAt: map[int64]time.Time{}}
	if holding(o.Scenario) && o.AdminToken != "" {
		watchers.Go(func() { prb.run(watchCtx) })
	}
	var held, settledAt GatewayStats
	var idle IdleCPU
	if metricsErr == nil {
		watchers.Go(func() { held, settledAt = watchGateways(watchCtx, o, total) })
		if o.quiet() > 0 {
			watchers.Go(func() { idle = measureIdle(watchCtx, o, total) })
		}
	}
	watchers.Go(func() { drawProgress(watchCtx, o.Progress, start, total) })
	if (holding(o.Scenario) && o.HoldFor > 0) || o.WhileHeld != nil {
		watchers.Go(func() { whileHeld(watchCtx, o, total, endPlay) })
	}

	var merged Partial
	var playErr error
	for k, p := range players {
		part, err := p.wait()
		if err != nil && playErr == nil {
			playErr = fmt.Errorf("loadgen: player %d: %w", k, err)
		}
		merged.merge(part)
	}
	stopWatching()
	watchers.Wait()
	codes, _ := extra.errorCounts()
	merged.merge(Partial{ErrorCodes: codes})

	res = merged.result(o, time.Since(start), prb.setAt())
	res.GatewayBefore, res.GatewayHeld, res.GatewaySettled = before, held, settledAt
	res.Idle = idle
	return res, playErr
}

// local is a player in this process.
type local struct {
	p    *player
	done chan Partial
}

func startLocal(ctx context.Context, p *player) *local {
	l := &local{p: p, done: make(chan Partial, 1)}
	go func() { l.done <- p.play(ctx) }()
	return l
}

func (l *local) progress() Progress     { return l.p.progress() }
func (l *local) wait() (Partial, error) { return <-l.done, nil }

// watchGateways reads the nodes' metrics every two seconds from the moment
// every shopper has joined until ctx is done, and returns the reading with
// the least Go memory. Heap in use counts garbage not yet collected, so each
// reading comes right after a collection, and the smallest is the closest to
// what holding the shoppers costs.
func watchGateways(ctx context.Context, o Options, total func() Progress) (held, settledAt GatewayStats) {
	// The first reading comes as soon as everyone has joined, so a short
	// hold gets one too.
	poll := time.NewTicker(100 * time.Millisecond)
	defer poll.Stop()
	for !settled(total(), o.Shoppers) {
		select {
		case <-ctx.Done():
			return GatewayStats{}, GatewayStats{}
		case <-poll.C:
		}
	}
	// What the joins cost the nodes: read at once, and without asking for
	// a collection, which would add its own CPU.
	settledAt, _ = ScrapeGateways(ctx, o.MetricsURLs, false)
	// A forced collection is CPU of the gateways': none while a hold is
	// kept quiet to read its idle CPU.
	if clock.Sleep(ctx, o.quiet()) != nil {
		return GatewayStats{}, settledAt
	}
	var least GatewayStats
	for {
		g, err := ScrapeGateways(ctx, o.MetricsURLs, true)
		// Readings taken as the run ends, with shoppers already gone, do not
		// count: among those holding the most, the one with the least memory.
		if err == nil && (g.Connections > least.Connections ||
			g.Connections == least.Connections && g.HeapBytes+g.StackBytes < least.HeapBytes+least.StackBytes) {
			least = g
		}
		if clock.Sleep(ctx, 2*time.Second) != nil {
			return least, settledAt
		}
	}
}

// settled says every shopper has joined or failed: a run with failures
// must still go on to its hold and its end.
func settled(p Progress, shoppers int) bool { return p.Joined+p.Errors >= int64(shoppers) }

// drawProgress redraws the progress line every second until ctx is done,
// then draws it a last time and ends the line.
func drawProgress(ctx context.Context, w io.Writer, start time.Time, total func() Progress) {
	if w == nil {
		return
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	draw := func() {
		p := total()
		fmt.Fprintf(w, "\r%5.0fs  connected %d  joined %d  admitted %d  paid %d  sold_out %d  errors %d  ",
			time.Since(start).Seconds(), p.Connected, p.Joined, p.Admitted, p.Paid, p.SoldOut, p.Errors)
	}
	for {
		select {
		case <-tick.C:
			draw()
		case <-ctx.Done():
			draw()
			fmt.Fprintln(w)
			return
		}
	}
}

// whileHeld waits until every shopper has joined, then runs o.WhileHeld
// and, in a hold or slow run, ends the play after the quiet window (if
// any) and o.HoldFor.
func whileHeld(ctx context.Context, o Options, total func() Progress, endPlay context.CancelFunc) {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for !settled(total(), o.Shoppers) {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
	var held sync.WaitGroup
	heldCtx, stop := context.WithCancel(ctx)
	if o.WhileHeld != nil {
		held.Go(func() { o.WhileHeld(heldCtx) })
	}
	if holding(o.Scenario) && o.HoldFor > 0 {
		_ = clock.Sleep(ctx, o.quiet()+o.HoldFor) // an ended ctx ends the hold early, as it should
		stop()
		held.Wait()
		endPlay()
	}
	held.Wait()
	stop()
}
