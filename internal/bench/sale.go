package bench

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/foyerhq/foyer/internal/loadgen"
)

// A sale is measured from outside (the load generator's shoppers: paid
// orders per second, the latencies they saw) and from the processes' own
// counters over the moving sale. Its crowd joins a paused sale, which is
// resumed once every shopper waits: the figures are those of the sale
// moving through a crowd that is already there, not of the join storm.

// SaleRun is one sale: what its shoppers saw and what it cost.
type SaleRun struct {
	Shoppers int
	Stock    int
	Outflow  float64 // shoppers let out per second
	Result   loadgen.Result
	// Latecomers, when any were asked for, are shoppers who arrive while
	// the sale moves, spread over it: their join's answer is the join's
	// latency at that outflow (the crowd's own joins are a storm). They
	// queue behind the crowd and check out as it does.
	Latecomers *loadgen.Result `json:",omitempty"`
	// GatewayCPU, WorkerCPU and RedisCPU are what each used from the
	// sale's resumption to its end, by its own counters: the gateways'
	// process_cpu_seconds_total, the worker's /proc account, Redis's INFO
	// cpu. Zero where a counter could not be read.
	GatewayCPU, WorkerCPU, RedisCPU time.Duration
	// LoadgenCPU is what the load generator's players used meanwhile: the
	// crowd's processes from their last join to their end, and the
	// latecomers' whole play, by their own getrusage. Zero where not read.
	LoadgenCPU time.Duration
	// PostgresCPU is what Postgres used meanwhile: its postmaster and
	// backends, by the kernel's account (/proc). Zero where not read.
	PostgresCPU time.Duration `json:",omitempty"`
	// PushWrites and NewsWrites are the gateways' writes to shoppers from
	// the sale's resumption to its end, by kind (foyer_writes_total): a
	// tick's counters and position alone, or anything else.
	PushWrites, NewsWrites float64 `json:",omitempty"`
	// Pushes is the push path's share of one gateway's CPU profile taken
	// while the sale moved; nil when none was taken.
	Pushes *PushShare `json:",omitempty"`
	// ProfileError says why a profile asked for is missing.
	ProfileError string `json:",omitempty"`
}

// CPUPerOrder is the gateways' and the worker's CPU per paid order; zero
// where nothing was paid or a counter was not read.
func (s SaleRun) CPUPerOrder() (gateways, worker time.Duration) {
	return s.perOrder(s.GatewayCPU), s.perOrder(s.WorkerCPU)
}

// LoadgenCPUPerOrder is the load generator's CPU per paid order; zero
// where nothing was paid or it was not read.
func (s SaleRun) LoadgenCPUPerOrder() time.Duration { return s.perOrder(s.LoadgenCPU) }

// RedisCPUPerOrder is Redis's CPU per paid order; zero where nothing was
// paid or it was not read.
func (s SaleRun) RedisCPUPerOrder() time.Duration { return s.perOrder(s.RedisCPU) }

// PostgresCPUPerOrder is Postgres's CPU per paid order; zero where
// nothing was paid or it was not read.
func (s SaleRun) PostgresCPUPerOrder() time.Duration { return s.perOrder(s.PostgresCPU) }

// MachineCPUPerOrder is every process's CPU per paid order: the gateways,
// the worker, Redis, Postgres and the load generator, all that shared the
// machine's cores while the sale moved; zero where one was not read.
func (s SaleRun) MachineCPUPerOrder() time.Duration {
	parts := []time.Duration{s.GatewayCPU, s.WorkerCPU, s.RedisCPU, s.PostgresCPU, s.LoadgenCPU}
	if slices.Contains(parts, 0) {
		return 0
	}
	var sum time.Duration
	for _, p := range parts {
		sum += p
	}
	return s.perOrder(sum)
}

// paid is the step's paid orders, the latecomers' included.
func (s SaleRun) paid() int64 {
	paid := s.Result.Paid
	if s.Latecomers != nil {
		paid += s.Latecomers.Paid
	}
	return paid
}

// perOrder is cpu over the step's paid orders; zero where nothing was paid.
func (s SaleRun) perOrder(cpu time.Duration) time.Duration {
	if s.paid() == 0 {
		return 0
	}
	return cpu / time.Duration(s.paid())
}

// WritesPerOrder is the gateways' writes per paid order, pushes and news;
// zero where nothing was paid.
func (s SaleRun) WritesPerOrder() (pushes, news float64) {
	if s.paid() == 0 {
		return 0, 0
	}
	return s.PushWrites / float64(s.paid()), s.NewsWrites / float64(s.paid())
}

// Errors are the errors every shopper of the sale met, latecomers included.
func (s SaleRun) Errors() int64 {
	n := s.Result.Errors
	if s.Latecomers != nil {
		n += s.Latecomers.Errors
	}
	return n
}

// MovingJoin is the join's answer while the sale moves: the latecomers',
// or, without them, the crowd's (joined before the sale moved).
func (s SaleRun) MovingJoin() loadgen.LatencySummary {
	if s.Latecomers != nil && s.Latecomers.JoinLatency.Count > 0 {
		return s.Latecomers.JoinLatency
	}
	return s.Result.JoinLatency
}

// KeepUp is how much of the outflow the paid orders kept up with: the
// rate of the paid orders' stream (first to last paid order) over shoppers
// let out per second. The stream's rate leaves out the one
// admission-to-paid latency every order waits, which paidWithin bounds
// apart: a constant latency is not falling behind, and counting it would
// fail a short sale (a high outflow) for it alone.
func (s SaleRun) KeepUp() float64 { return ratio(s.Result.PaidPerSecond, s.Outflow) }

// saleSpec is what a sale run is asked for.
type saleSpec struct {
	shoppers, stock int
	outflow         float64
	procs           int           // load generator processes
	profileFor      time.Duration // CPU profile of one gateway once the sale moves (0: none)
	// latecomers arrive while the sale moves, spread over the crowd's
	// share of it, from a process and a source address of their own.
	latecomers int
}

// latecomerSource is the latecomers' loopback address, apart from the
// crowd's (127.0.0.2, 127.0.0.3, ...).
const latecomerSource = "127.0.0.200"

// runSale creates a paused sale, lets spec.shoppers join it, resumes it
// once all have joined (or failed), and measures it until every shopper
// has paid, lost out or failed.
func (c *cluster) runSale(ctx context.Context, o Options, rdb *redis.Client, spec saleSpec) (SaleRun, error) {
	run := SaleRun{Shoppers: spec.shoppers, Stock: spec.stock, Outflow: spec.outflow}
	sale, err := c.createSale(ctx, spec.stock, spec.outflow)
	if err != nil {
		return run, err
	}
	if err := c.admin(ctx, http.MethodPost, "/v1/admin/sales/"+sale+"/pause"); err != nil {
		return run, err
	}
	type counters struct {
		gateways                loadgen.GatewayStats
		worker, redis, postgres time.Duration
	}
	read := func() counters {
		var n counters
		n.gateways, _ = loadgen.ScrapeGateways(ctx, c.metricsURLs, false)
		n.worker, _ = processCPU(c.worker.Process.Pid)
		n.redis = redisCPU(ctx, rdb)
		n.postgres, _ = serverCPU(c.postgres.PID())
		return n
	}
	var (
		resumed   counters
		resumeErr error
		profiling sync.WaitGroup
		pushes    PushShare
		profErr   error
		late      sync.WaitGroup
		lateRes   loadgen.Result
		lateErr   error
	)
	// The sale lasts as long as its crowd takes to join, then about
	// stock / outflow; the bound leaves room for a slow machine.
	saleLength := time.Duration(float64(min(spec.stock, spec.shoppers+spec.latecomers)) / spec.outflow * float64(time.Second))
	res, err := loadgen.Run(ctx, loadgen.Options{
		// No MetricsURLs: the load generator would read the gateways'
		// memory after a forced collection every two seconds, CPU the sale
		// would count as its own. The counters are read here instead.
		URLs: c.urls, SaleID: sale, Scenario: loadgen.Sale, Shoppers: spec.shoppers,
		// Apart: the players' CPU is theirs alone, not the bench's nor the
		// latecomers', even with one process.
		Duration: 5*time.Minute + 2*saleLength, Procs: spec.procs, Sources: sources(spec.procs), Apart: true,
		Exec: []string{o.Self, "loadgen"}, Progress: o.Progress, CheckoutOverHTTP: o.CheckoutOverHTTP,
		WhileHeld: func(context.Context) {
			// Everyone waits: the sale moves from here, and so do its
			// counters. The profile runs on the bench's context, past the
			// end of the run if need be: samples come only while the
			// gateway works, so an idle tail adds none.
			resumed = read()
			if resumeErr = c.admin(ctx, http.MethodPost, "/v1/admin/sales/"+sale+"/resume"); resumeErr != nil {
				return
			}
			if spec.profileFor >= time.Second && len(c.metricsURLs) > 0 {
				profiling.Go(func() {
					pushes, profErr = profilePushes(ctx, c.metricsURLs[0], int(spec.profileFor/time.Second),
						profilePath(o.Out, spec.outflow))
				})
			}
			if spec.latecomers > 0 {
				// They arrive over most of the time the crowd takes to be
				// let out, so every one of them joins a moving sale.
				crowdOut := time.Duration(float64(spec.shoppers) / spec.outflow * float64(time.Second))
				late.Go(func() {
					lateRes, lateErr = loadgen.Run(ctx, loadgen.Options{
						URLs: c.urls, SaleID: sale, Scenario: loadgen.Sale, Shoppers: spec.latecomers,
						Over: crowdOut * 8 / 10, Duration: 5*time.Minute + 2*saleLength, Procs: 1, Apart: true,
						Sources: []string{latecomerSource}, Exec: []string{o.Self, "loadgen"}, CheckoutOverHTTP: o.CheckoutOverHTTP,
					})
				})
			}
		},
	})
	profiling.Wait()
	late.Wait()
	if err == nil {
		err = cmp.Or(resumeErr, lateErr)
	}
	if err != nil {
		return run, err
	}
	if spec.latecomers > 0 {
		run.Latecomers = &lateRes
	}
	end := read()
	if err := c.endSale(ctx, sale); err != nil {
		return run, err
	}
	run.Result = res
	if resumed.gateways.CPUSeconds > 0 && end.gateways.CPUSeconds > 0 {
		run.GatewayCPU = end.gateways.CPUSince(resumed.gateways)
	}
	run.PushWrites = end.gateways.PushWrites - resumed.gateways.PushWrites
	run.NewsWrites = end.gateways.NewsWrites - resumed.gateways.NewsWrites
	if resumed.worker > 0 {
		run.WorkerCPU = end.worker - resumed.worker
	}
	if resumed.redis > 0 {
		run.RedisCPU = end.redis - resumed.redis
	}
	if resumed.postgres > 0 {
		run.PostgresCPU = end.postgres - resumed.postgres
	}
	if lg := res.CPUAfterJoin(); lg > 0 && (spec.latecomers == 0 || lateRes.PlayCPU > 0) {
		run.LoadgenCPU = lg + lateRes.PlayCPU
	}
	switch {
	case profErr != nil:
		run.ProfileError = profErr.Error()
	case pushes.Samples > 0 || pushes.Seconds > 0:
		run.Pushes = &pushes
	}
	return run, nil
}

// admin sends a body-less admin request to the first gateway.
func (c *cluster) admin(ctx context.Context, method, path string) error {
	req, err := http.NewRequestWithContext(ctx, method, c.urls[0]+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.adminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		raw, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("%s %s: status %d: %s", method, path, resp.StatusCode, strings.TrimSpace(string(raw)))
	}
	return nil
}
