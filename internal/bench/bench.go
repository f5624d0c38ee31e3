// Package bench is `foyer-bench bench`: it measures Foyer as a production runs it
// (gateway and worker processes on real Redis and Postgres, driven by the
// load generator over the real protocol) and, in the same run on the same
// machine, the ceiling of Foyer's own stack: a bare coder/websocket server
// that only accepts and broadcasts. Each figure is reported as a ratio to its
// ceiling, in a markdown table and as JSON; the bare server and Foyer are
// measured in alternating rounds (A B A B), and each ratio is the median
// of its rounds with their spread. A sale is measured with its CPU per paid
// order by process and the pushes' share of a gateway's CPU profile, and,
// with -sustained, at rising outflows to find the sustained sale rate. The ceilings of the Redis hot path
// and of the order pipeline are Go benchmarks (`go test -bench`) whose output
// the table takes in with -components.
package bench

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/foyerhq/foyer/internal/loadgen"
)

// Options configure a bench run.
type Options struct {
	Shoppers     int           // held, and reached by the probes
	Nodes        int           // gateway processes
	Procs        int           // load generator processes (0: one per node, more when needed)
	HoldFor      time.Duration // how long everyone is held once joined
	ArriveOver   time.Duration // spread the held shoppers' arrivals over this long (0: all at once)
	ProbeEvery   time.Duration // how often the stock changes while everyone is held
	SlowShoppers int           // shoppers in the slow scenario
	SaleShoppers int           // shoppers in the sale scenario
	SaleStock    int
	SaleRate     float64
	SaleProfile  time.Duration // CPU profile of one gateway while the sale moves (0: none)
	// Rounds is how many times the bare baseline and Foyer's hold alternate
	// (A B A B ...): each ratio is the median of its rounds.
	Rounds int
	// SustainedShoppers, when positive, finds the sustained sale rate: that
	// many shoppers wait, and the outflow steps through SustainedSteps.
	SustainedShoppers int
	SustainedSteps    []float64
	// SustainedLatecomers is the share of SustainedShoppers who, on top of
	// them, arrive while each step's sale moves: the join's latency at that
	// outflow.
	SustainedLatecomers float64
	// IdleFor is each round's quiet window, on both sides: once everyone
	// is connected, nothing is sent but the clients' pings for
	// loadgen.IdleLead + IdleFor, and the servers' CPU is read over IdleFor.
	IdleFor time.Duration
	// PingEvery is the keepalive of both crowds, the load generator's
	// shoppers and the bare clients (the product's client: every 20 s).
	PingEvery time.Duration
	// CheckoutOverHTTP has the sales' shoppers check out with a POST, as
	// before checkouts went over the socket: the two measured side by side.
	CheckoutOverHTTP bool
	BareShoppers     int    // connections of the bare baseline, over as many servers as they need (0: Shoppers)
	BarePerServer    int    // the most connections one bare server, and one crowd of its clients, holds (0: 18,000)
	Components       string // go test -bench output to take in, if any
	Out              string // folder for bench.json and bench.md
	Foyer            string // the product executable that runs migrate, the gateways and the worker (default: FoyerBeside(Self))
	Self             string // the foyer-bench executable that runs the bare servers, their crowds and the players (default: this one)
	Progress         io.Writer
	ServerLog        io.Writer // the processes' own output (default: discarded)
	SkipBaselines    bool
}

// Usage is the first lines of `foyer-bench bench -h`; the flags follow.
const Usage = `usage: foyer-bench bench [flags]

Starts a throwaway Foyer (Redis, Postgres, gateways and a worker, processes of
the foyer binary beside foyer-bench, or of -foyer) and bare WebSocket servers,
loads both, and writes the figures with their ratios to -out. The bare servers, their clients
and the load generator's players are processes of foyer-bench itself.

flags:
`

// Main is `foyer-bench bench ARGS`.
func Main(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() { fmt.Fprint(out, Usage); fs.PrintDefaults() }
	var o Options
	fs.StringVar(&o.Foyer, "foyer", "", "the foyer binary to run the gateways and the worker with (default: foyer beside foyer-bench, else on PATH)")
	fs.IntVar(&o.Shoppers, "shoppers", 10000, "shoppers held on the gateways, and reached by each probe")
	fs.IntVar(&o.Nodes, "nodes", 2, "gateway processes")
	fs.IntVar(&o.Procs, "procs", 0, "load generator processes (default: one per node, or more as the shoppers need)")
	fs.DurationVar(&o.HoldFor, "hold-for", 15*time.Second, "how long the shoppers are held once all joined")
	fs.DurationVar(&o.ArriveOver, "arrive-over", 0, "spread the held shoppers' arrivals over this long (default: all at once)")
	fs.DurationVar(&o.ProbeEvery, "probe-every", 2*time.Second, "how often the stock changes while the shoppers are held")
	fs.IntVar(&o.SlowShoppers, "slow-shoppers", 2000, "shoppers in the slow scenario (0 skips it)")
	fs.IntVar(&o.SaleShoppers, "sale-shoppers", 3000, "shoppers in the sale scenario (0 skips it)")
	fs.IntVar(&o.SaleStock, "sale-stock", 1000, "units in the sale scenario")
	fs.Float64Var(&o.SaleRate, "sale-rate", 500, "outflow per second in the sale scenario")
	fs.DurationVar(&o.SaleProfile, "sale-profile", 5*time.Second, "CPU profile of one gateway taken while a sale moves, for the pushes' share (0 takes none)")
	fs.IntVar(&o.Rounds, "rounds", 2, "rounds of the bare baseline then Foyer's hold, alternating: each ratio is their median")
	sustained := fs.Bool("sustained", false, "find the sustained sale rate: step the outflow through -sustained-steps with -sustained-shoppers waiting")
	fs.IntVar(&o.SustainedShoppers, "sustained-shoppers", 15000, "with -sustained: shoppers waiting at each step, with stock for all")
	steps := fs.String("sustained-steps", "500,1000,1500,2000,3000", "with -sustained: the outflows to step through, shoppers a second, rising")
	fs.Float64Var(&o.SustainedLatecomers, "sustained-latecomers", 0.1, "with -sustained: shoppers arriving while each step's sale moves, as a share of -sustained-shoppers, on top of them")
	fs.DurationVar(&o.IdleFor, "idle-for", 10*time.Second, "each round's quiet window, bare and Foyer: once all are connected, nothing but pings for this long (after a short lead), the servers' CPU read over it (0 measures no idle CPU)")
	fs.BoolVar(&o.CheckoutOverHTTP, "checkout-over-http", false, "the sales' shoppers check out with a POST, not over their socket")
	fs.DurationVar(&o.PingEvery, "ping-every", 5*time.Second, "how often every client, shopper and bare, pings (the product's client: 20s)")
	fs.IntVar(&o.BareShoppers, "bare-shoppers", 0, "connections to the bare baseline servers (default: -shoppers)")
	fs.IntVar(&o.BarePerServer, "bare-per-server", barePerProcess, "the most connections one bare server, and one process of its clients, holds")
	fs.StringVar(&o.Components, "components", "", "go test -bench output whose ratios go in the table too")
	fs.StringVar(&o.Out, "out", "bench/results", "folder for bench.json and bench.md")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := checkFlags(&o, *sustained, *steps); err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	o.Progress = os.Stderr
	report, err := Run(ctx, o)
	if err != nil {
		return err
	}
	if err := report.write(o.Out); err != nil {
		return err
	}
	fmt.Fprint(out, report.Markdown())
	fmt.Fprintf(out, "\nwritten to %s and %s\n", filepath.Join(o.Out, "bench.md"), filepath.Join(o.Out, "bench.json"))
	return nil
}

// checkFlags refuses the flags' values that would measure nothing or
// measure wrong, and reads the steps of the sustained rate when asked for.
func checkFlags(o *Options, sustained bool, steps string) error {
	if o.Rounds < 1 {
		return fmt.Errorf("-rounds %d: at least one round of the bare baseline then Foyer is needed", o.Rounds)
	}
	if o.IdleFor < 0 || o.PingEvery < 0 {
		return fmt.Errorf("-idle-for %s, -ping-every %s: durations of 0 or more", o.IdleFor, o.PingEvery)
	}
	if o.SaleProfile != 0 && o.SaleProfile < time.Second {
		return fmt.Errorf("-sale-profile %s: a profile is taken in whole seconds, at least 1s (0 takes none)", o.SaleProfile)
	}
	if !sustained {
		o.SustainedShoppers = 0
		return checkCapacity(o)
	}
	if o.SustainedShoppers < 1 {
		return fmt.Errorf("-sustained-shoppers %d: the sustained rate needs shoppers waiting", o.SustainedShoppers)
	}
	if o.SustainedLatecomers < 0 || o.SustainedLatecomers > 1 {
		return fmt.Errorf("-sustained-latecomers %v: a share of the shoppers waiting, from 0 to 1", o.SustainedLatecomers)
	}
	var err error
	if o.SustainedSteps, err = parseSteps(steps); err != nil {
		return fmt.Errorf("-sustained-steps: %w", err)
	}
	return checkCapacity(o)
}

// Run runs the bench and returns its report.
func Run(ctx context.Context, o Options) (*Report, error) {
	o.Procs = cmp.Or(o.Procs, procsFor(o.Shoppers, o.Nodes))
	o.Rounds = cmp.Or(o.Rounds, 1)
	if o.Rounds < 1 {
		return nil, fmt.Errorf("bench: -rounds %d: at least one round of the bare baseline then Foyer is needed", o.Rounds)
	}
	o.BareShoppers = cmp.Or(o.BareShoppers, o.Shoppers)
	o.BarePerServer = cmp.Or(o.BarePerServer, barePerProcess)
	if !o.SkipBaselines && (o.BareShoppers < 1 || o.BarePerServer < 1) {
		return nil, fmt.Errorf("bench: the bare baseline needs at least one connection and one a server, not %d and %d",
			o.BareShoppers, o.BarePerServer)
	}
	if err := findBinaries(&o.Self, &o.Foyer); err != nil {
		return nil, err
	}
	if o.ServerLog == nil {
		o.ServerLog = io.Discard
	}
	say := func(format string, args ...any) {
		if o.Progress != nil {
			fmt.Fprintf(o.Progress, "bench: "+format+"\n", args...)
		}
	}
	r := &Report{Machine: machine(), Cores: runtime.NumCPU(), Started: time.Now().UTC(), Options: o}

	// The cluster starts once; each round holds a fresh sale on it, and
	// its bare baseline runs beside the idle cluster.
	say("starting Redis, Postgres, %d gateways and a worker", o.Nodes)
	c, err := startCluster(ctx, o.Foyer, o.Nodes, o.ServerLog)
	if err != nil {
		return nil, err
	}
	defer c.stop()
	rdb := redis.NewClient(&redis.Options{Addr: c.redis.Addr})
	defer rdb.Close()

	for k := range o.Rounds {
		var rd Round
		if !o.SkipBaselines {
			say("round %d of %d: bare coder/websocket server, %d connections over %d servers", k+1, o.Rounds,
				o.BareShoppers, (o.BareShoppers+o.BarePerServer-1)/o.BarePerServer)
			if rd.Bare, err = measureBare(ctx, o, false, o.IdleFor); err != nil {
				return nil, err
			}
			say("round %d of %d: bare server with Foyer's buffer sizes, for memory", k+1, o.Rounds)
			if rd.Tuned, err = measureBare(ctx, o, true, 0); err != nil {
				return nil, err
			}
		}
		say("round %d of %d: hold, %d shoppers over %d gateways from %d processes, arriving over %s, held %s, a stock change every %s",
			k+1, o.Rounds, o.Shoppers, o.Nodes, o.Procs, o.ArriveOver, o.HoldFor, o.ProbeEvery)
		if err := c.hold(ctx, o, rdb, &rd); err != nil {
			return nil, err
		}
		r.Rounds = append(r.Rounds, rd)
	}

	if o.SlowShoppers > 0 {
		say("slow: %d shoppers, a tenth of them reading one message a second", o.SlowShoppers)
		slowSale, err := c.createSale(ctx, 1000, 0.001)
		if err != nil {
			return nil, err
		}
		r.Slow, err = loadgen.Run(ctx, loadgen.Options{
			URLs: c.urls, MetricsURLs: c.metricsURLs, SaleID: slowSale, Scenario: loadgen.Slow, Shoppers: o.SlowShoppers,
			Duration: 5 * time.Minute, HoldFor: 10 * time.Second, Procs: 1, AdminToken: c.adminToken,
			ProbeEvery: time.Second, Progress: o.Progress,
			WhileHeld: func(ctx context.Context) { r.SlowRedisCommandsPerSecond = commandsPerSecond(ctx, rdb) },
		})
		if err != nil {
			return nil, err
		}
		if err := c.endSale(ctx, slowSale); err != nil {
			return nil, err
		}
	}
	if o.SaleShoppers > 0 {
		say("sale: %d shoppers, stock %d, outflow %v/s, everyone admitted checks out", o.SaleShoppers, o.SaleStock, o.SaleRate)
		sale, err := c.runSale(ctx, o, rdb, saleSpec{shoppers: o.SaleShoppers, stock: o.SaleStock, outflow: o.SaleRate,
			procs: 1, profileFor: o.SaleProfile})
		if err != nil {
			return nil, err
		}
		r.Sale = &sale
	}
	for _, outflow := range o.SustainedSteps {
		if o.SustainedShoppers < 1 {
			break
		}
		late := int(o.SustainedLatecomers * float64(o.SustainedShoppers))
		say("sustained sale rate: %d shoppers waiting and %d arriving while it moves, stock for all, outflow %v/s",
			o.SustainedShoppers, late, outflow)
		step, err := c.runSale(ctx, o, rdb, saleSpec{shoppers: o.SustainedShoppers, stock: o.SustainedShoppers + late, outflow: outflow,
			procs: procsFor(o.SustainedShoppers, o.Nodes), profileFor: o.SaleProfile, latecomers: late})
		if err != nil {
			return nil, err
		}
		r.Steps = append(r.Steps, step)
	}
	if o.Components != "" {
		raw, err := os.ReadFile(o.Components)
		if err != nil {
			return nil, fmt.Errorf("read the component benchmarks: %w", err)
		}
		r.Components = parseComponents(raw)
	}
	r.Elapsed = time.Since(r.Started)
	return r, nil
}

// hold is Foyer's side of a round: o.Shoppers held on a fresh sale, a
// stock change probed every o.ProbeEvery, with Redis's own counters read
// while they join and while they are held.
func (c *cluster) hold(ctx context.Context, o Options, rdb *redis.Client, rd *Round) error {
	sale, err := c.createSale(ctx, 1000, 0.001)
	if err != nil {
		return err
	}
	if o.IdleFor > 0 {
		if rd.Empty, err = loadgen.MeasureIdle(ctx, c.metricsURLs, 0, o.IdleFor); err != nil {
			return fmt.Errorf("the gateways' CPU with nobody connected: %w", err)
		}
	}
	var redisRate float64
	redisBefore, readsBefore := redisCPU(ctx, rdb), redisReads(ctx, rdb)
	rd.Hold, err = loadgen.Run(ctx, loadgen.Options{
		URLs: c.urls, MetricsURLs: c.metricsURLs, SaleID: sale, Scenario: loadgen.Hold, Shoppers: o.Shoppers,
		Duration: o.ArriveOver + o.HoldFor + 10*time.Minute, HoldFor: o.HoldFor, Over: o.ArriveOver,
		Procs: o.Procs, Sources: sources(o.Procs), PingEvery: o.PingEvery, IdleFor: o.IdleFor,
		Exec: []string{o.Self, "loadgen"}, AdminToken: c.adminToken, Probe: loadgen.ProbeStock,
		ProbeEvery: cmp.Or(o.ProbeEvery, 2*time.Second), Progress: o.Progress,
		WhileHeld: func(ctx context.Context) {
			if redisBefore > 0 {
				rd.RedisJoinCPU = redisCPU(ctx, rdb) - redisBefore
			}
			if readsBefore >= 0 {
				rd.RedisJoinReads = redisReads(ctx, rdb) - readsBefore
			}
			redisRate = commandsPerSecond(ctx, rdb)
		},
	})
	rd.RedisCommandsPerSecond = redisRate
	if err != nil {
		return err
	}
	return c.endSale(ctx, sale)
}

// endSale stops a sale the bench is done with: an open sale left behind
// would keep the admitter and Redis busy through the rounds after it, and
// each round must find the cluster as the one before it did.
func (c *cluster) endSale(ctx context.Context, sale string) error {
	return c.admin(ctx, http.MethodPost, "/v1/admin/sales/"+sale+"/stop")
}

// createSale creates an open sale through the admin API and returns its id.
func (c *cluster) createSale(ctx context.Context, stock int, rate float64) (string, error) {
	body, _ := json.Marshal(map[string]any{"sku": "BENCH", "name": "Bench", "stock": stock, "outflow_per_second": rate,
		"reservation_ttl_seconds": 300})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.urls[0]+"/v1/admin/sales", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.adminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("create sale: %w", err)
	}
	defer resp.Body.Close()
	var sale struct{ ID string }
	if resp.StatusCode != http.StatusCreated {
		raw, _ := io.ReadAll(resp.Body)
		return "", fmt.Errorf("create sale: status %d: %s", resp.StatusCode, raw)
	}
	if err := json.NewDecoder(resp.Body).Decode(&sale); err != nil {
		return "", fmt.Errorf("create sale: %w", err)
	}
	return sale.ID, nil
}

// redisCPU is the CPU Redis has used since it started (INFO cpu: user and
// system, all its threads), or zero if it cannot be read.
func redisCPU(ctx context.Context, rdb *redis.Client) time.Duration {
	info, err := rdb.Info(ctx, "cpu").Result()
	sys, okSys := infoField(info, "used_cpu_sys")
	user, okUser := infoField(info, "used_cpu_user")
	if err != nil || !okSys || !okUser {
		return 0
	}
	return time.Duration((sys + user) * float64(time.Second))
}

// redisReads is how many reads of its clients' sockets Redis has served
// since it started (INFO stats): one per round trip, whatever the commands
// in it. -1 if it cannot be read.
func redisReads(ctx context.Context, rdb *redis.Client) float64 {
	info, err := rdb.Info(ctx, "stats").Result()
	n, ok := infoField(info, "total_reads_processed")
	if err != nil || !ok {
		return -1
	}
	return n
}

// infoField is a numeric field of an INFO answer.
func infoField(info, name string) (float64, bool) {
	for line := range strings.SplitSeq(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, name+":"); ok {
			n, err := strconv.ParseFloat(v, 64)
			return n, err == nil
		}
	}
	return 0, false
}

// commandsPerSecond is Redis's rate of commands from now until ctx is done.
func commandsPerSecond(ctx context.Context, rdb *redis.Client) float64 {
	read := func() (float64, time.Time) {
		info, err := rdb.Info(context.Background(), "stats").Result()
		if n, ok := infoField(info, "total_commands_processed"); err == nil && ok {
			return n, time.Now()
		}
		return -1, time.Now()
	}
	n0, t0 := read()
	<-ctx.Done()
	n1, t1 := read()
	if n0 < 0 || n1 < 0 {
		return 0
	}
	// The two INFO calls are commands too.
	return (n1 - n0 - 1) / t1.Sub(t0).Seconds()
}

// findBinaries fills in, when not given, this executable (self: the
// bench's children run from it) and the product binary beside it (foyer).
func findBinaries(self, foyer *string) error {
	if *self == "" {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("bench: find this executable: %w", err)
		}
		*self = exe
	}
	if *foyer == "" {
		found, err := FoyerBeside(*self)
		if err != nil {
			return err
		}
		*foyer = found
	}
	return nil
}

// FoyerBeside finds the product binary the bench runs as its gateways and
// worker: foyer in the folder of self (make build puts bin/foyer beside
// bin/foyer-bench), else foyer on PATH. The bench's own children come from
// self: the product binary carries no tooling.
func FoyerBeside(self string) (string, error) {
	beside := filepath.Join(filepath.Dir(self), "foyer")
	if info, err := os.Stat(beside); err == nil && !info.IsDir() {
		return beside, nil
	}
	onPath, err := exec.LookPath("foyer")
	if err != nil {
		return "", fmt.Errorf("bench: no foyer binary beside %s nor on PATH (make build, or pass -foyer): %w", self, err)
	}
	return onPath, nil
}

// sources are loopback source addresses for the load generator's players,
// one each: 127.0.0.2, 127.0.0.3, ...
func sources(procs int) []string {
	out := make([]string, procs)
	for k := range out {
		out[k] = fmt.Sprintf("127.0.0.%d", 2+k)
	}
	return out
}
