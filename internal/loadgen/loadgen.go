// Package loadgen is `foyer-bench loadgen`: it plays many shoppers against a
// running Foyer over the real protocol (internal/shopperclient), in one of
// four scenarios, and reports what they saw.
//
//   - hold: every shopper connects, joins and then only listens, for the
//     whole duration; it measures how many connections a deployment holds,
//     what each costs the gateways, and (with an admin token) how fast a
//     change reaches everyone.
//   - storm: every shopper connects and joins within a window; it measures
//     joins per second and the latency of a join (from the start of the
//     connection, which asks for the join, to the first position, prequeue
//     or admitted reply).
//   - sale: every shopper joins, every admitted one checks out; it measures
//     admissions, paid orders, sold-out shoppers, the push latency from the
//     admitter's tick to the shopper and the latency from admission to paid
//     order.
//   - slow: a hold in which a share of the shoppers read slowly; it measures
//     that the others do not notice.
//
// One process holds at most MaxShoppersPerProcess sockets (the machine's
// limit on open files), and one source address reaches about 28,000 ports
// towards one node. A larger run is spread over several player processes
// (children of this one, `foyer-bench loadgen` again), each on its own source
// address; this process draws the progress, sends the probes, reads the
// gateways' metrics and adds up the players' results.
package loadgen

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strings"
	"time"
)

// Scenarios.
const (
	Hold  = "hold"
	Storm = "storm"
	Sale  = "sale"
	Slow  = "slow"
)

// MaxShoppersPerProcess is the most shoppers one process plays (see the
// package doc).
const MaxShoppersPerProcess = 20000

// Options configure a run.
type Options struct {
	// URLs are the gateway nodes' base URLs; shopper i uses URLs[i%len(URLs)].
	URLs []string
	// MetricsURLs are the base URLs of the nodes' ops ports
	// (FOYER_METRICS_ADDR), where their metrics are read; empty reads none.
	MetricsURLs []string
	// SaleID is the sale every shopper joins.
	SaleID string
	// Scenario is Hold, Storm or Sale.
	Scenario string
	// Shoppers is how many shoppers play, at most MaxShoppersPerProcess.
	Shoppers int
	// Duration bounds the run: hold runs exactly this long, storm and sale at
	// most this long. Defaults to 30 s.
	Duration time.Duration
	// Over spreads the shoppers' starts evenly over this window; zero starts
	// them all at once (still ConnectConcurrency at a time).
	Over time.Duration
	// ConnectConcurrency is how many shoppers may be arriving at the same
	// moment: from the start of the connection, which makes the session and
	// asks for the join, to the join's answer. Defaults to 200.
	ConnectConcurrency int
	// Progress, when not nil, gets a progress line redrawn every second.
	Progress io.Writer
	// AdminToken, when set, makes a hold or slow run probe push latency:
	// every ProbeEvery, once every shopper has joined, it changes the sale
	// through the admin API (see Probe) and every shopper measures how long
	// the change took to arrive (they share this machine's clock).
	AdminToken string
	// ProbeEvery is how often a probe is sent. Defaults to 2 s.
	ProbeEvery time.Duration
	// Probe is ProbeMessage (the default) or ProbeStock.
	Probe string
	// SlowShare is the share of shoppers that read slowly in the slow
	// scenario (default 0.1); each waits SlowDelay (default 1 s) before
	// every read.
	SlowShare float64
	SlowDelay time.Duration
	// Procs is how many player processes play; the default is as few as
	// MaxShoppersPerProcess allows. With one, the shoppers play in this
	// process.
	Procs int
	// Sources are source IPs for the players, one per player in turn
	// (127.0.0.2, 127.0.0.3, ... on loopback); empty lets the kernel choose.
	Sources []string
	// HoldFor, in hold and slow runs, ends the run this long after every
	// shopper has joined (still at most Duration after the start).
	HoldFor time.Duration
	// WhileHeld, when set, runs from the moment every shopper has joined (or
	// failed) to the end of the run (its ctx is then done), in any scenario:
	// a caller measures the steady state of a hold with it, or starts a
	// paused sale once its crowd is waiting.
	WhileHeld func(ctx context.Context) `json:"-"`
	// PingEvery is how often each shopper's connection sends a keepalive
	// ping; zero keeps the product client's shopperclient.PingInterval.
	PingEvery time.Duration
	// CheckoutOverHTTP has sale shoppers check out with a POST to the
	// checkout URL, as a page did before checkouts went over the socket;
	// by default they check out over their socket (docs/protocol.md).
	CheckoutOverHTTP bool
	// IdleFor, in a hold, keeps the held crowd quiet once everyone has
	// joined: no probe and no forced collection for IdleLead + IdleFor, the
	// gateways' CPU read over the last IdleFor (Result.Idle), and the hold's
	// HoldFor counted from the end of that quiet. Zero measures no idle.
	IdleFor time.Duration
	// Apart plays even a single player in a process of its own, so that
	// the players' CPU (JoinCPU, PlayCPU) is theirs alone, not shared with
	// the caller's process or another run's.
	Apart bool
	// Exec is the command that runs `foyer-bench loadgen` for a player process;
	// it defaults to this executable. Env is added to its environment.
	Exec []string
	Env  []string
}

// Result is what a run measured.
type Result struct {
	Scenario string
	Shoppers int
	Procs    int // player processes
	Nodes    int // gateway nodes
	Elapsed  time.Duration

	Connected int64 // WebSockets opened
	Held      int64 // connections still open when the run stopped
	Joined    int64 // joins answered
	Admitted  int64
	Paid      int64
	Cancelled int64
	SoldOut   int64
	Expired   int64
	Retried   int64 // joins told busy or rate_limited, sent again after the wait asked

	Errors     int64            // all errors
	ErrorCodes map[string]int64 // errors by code
	// JoinLatency runs from the start of a shopper's connection, which asks
	// for the join (Arrive), to the first answer to the join.
	JoinLatency LatencySummary
	// AdmitToPaid is the latency from the admitted message to the order
	// message with status paid, checkout included.
	AdmitToPaid LatencySummary
	// CheckoutLatency runs from sending a checkout to reading its HTTP
	// answer: what the shopper waits for at the checkout button, not the
	// order row, which AdmitToPaid waits for.
	CheckoutLatency LatencySummary
	// AdmitPush is the latency from the admitter's tick that let a shopper
	// out (admitted_at, on Redis's clock) to the admitted message.
	AdmitPush LatencySummary
	// PushLatency is the latency of an operator's message, from the admin
	// request to each shopper (hold and slow runs with AdminToken and
	// ProbeMessage); in a slow run, to the shoppers reading at full speed.
	PushLatency LatencySummary
	// SlowPushLatency is PushLatency for the slow readers of a slow run.
	SlowPushLatency LatencySummary
	// StockPush is the latency of a stock change, from the admin request to
	// each shopper's stock message (ProbeStock).
	StockPush       LatencySummary
	JoinsPerSecond  float64 // joins answered over the time from the first connection's start to the last answer
	OrdersPerSecond float64 // paid orders over the time from the first admission to the last paid order
	// PaidPerSecond is the rate of the paid orders' own stream: paid orders
	// over the time from the first to the last. Unlike OrdersPerSecond it
	// leaves out the one admission-to-paid latency every order waits, so a
	// pipeline that keeps up with the outflow shows the outflow, whatever
	// the sale's length.
	PaidPerSecond float64

	// GatewayBefore and GatewayHeld are the nodes' metrics before the run
	// and at the last reading while the shoppers were held; GatewaySettled
	// is the reading as soon as every shopper had joined or failed.
	GatewayBefore, GatewayHeld, GatewaySettled GatewayStats
	// JoinCPU is the CPU the player processes used from their start of play
	// until each had all its shoppers joined (or failed): what the joins
	// cost the load generator. Zero where it is not measured.
	JoinCPU time.Duration
	// PlayCPU is the CPU the player processes used from their start of play
	// to its end; zero where it is not measured.
	PlayCPU time.Duration
	// Idle is the gateways' CPU over the quiet window of a hold (IdleFor);
	// zero when none was measured.
	Idle IdleCPU
}

// CPUAfterJoin is the CPU the player processes used once all their
// shoppers had joined, to the end of play: what the load generator spent on
// a sale moving through a crowd already there. Zero where not measured.
func (r Result) CPUAfterJoin() time.Duration {
	if r.PlayCPU == 0 || r.JoinCPU == 0 {
		return 0
	}
	return r.PlayCPU - r.JoinCPU
}

// CPUPerJoin is the CPU one join cost the load generator and the nodes,
// zero where it was not measured.
func (r Result) CPUPerJoin() (loadgenCPU, gateways time.Duration) {
	if r.Joined == 0 {
		return 0, 0
	}
	n := time.Duration(r.Joined)
	return r.JoinCPU / n, r.GatewayJoinCPU() / n
}

// GatewayJoinCPU is the CPU the nodes used from the start of the run until
// every shopper had joined or failed.
func (r Result) GatewayJoinCPU() time.Duration {
	if r.GatewaySettled.CPUSeconds == 0 {
		return 0
	}
	return r.GatewaySettled.CPUSince(r.GatewayBefore)
}

// withDefaults checks o and fills in its defaults.
func (o Options) withDefaults() (Options, error) {
	o.Duration = cmp.Or(o.Duration, 30*time.Second)
	o.ConnectConcurrency = cmp.Or(o.ConnectConcurrency, 200)
	o.ProbeEvery = cmp.Or(o.ProbeEvery, 2*time.Second)
	o.Probe = cmp.Or(o.Probe, ProbeMessage)
	o.SlowDelay = cmp.Or(o.SlowDelay, time.Second)
	if o.Scenario == Slow && o.SlowShare == 0 {
		o.SlowShare = 0.1
	}
	if o.Scenario != Slow {
		o.SlowShare = 0
	}
	o.Procs = cmp.Or(o.Procs, (o.Shoppers+MaxShoppersPerProcess-1)/MaxShoppersPerProcess)
	var problems []string
	if len(o.URLs) == 0 {
		problems = append(problems, "no node URL")
	}
	if o.SaleID == "" {
		problems = append(problems, "no sale")
	}
	if o.Scenario != Hold && o.Scenario != Storm && o.Scenario != Sale && o.Scenario != Slow {
		problems = append(problems, fmt.Sprintf("scenario %q is not hold, storm, sale or slow", o.Scenario))
	}
	if o.Probe != ProbeMessage && o.Probe != ProbeStock {
		problems = append(problems, fmt.Sprintf("probe %q is not message or stock", o.Probe))
	}
	if o.Shoppers < 1 {
		problems = append(problems, fmt.Sprintf("shoppers %d is not positive", o.Shoppers))
	}
	if o.Procs < 1 || o.Shoppers > o.Procs*MaxShoppersPerProcess {
		problems = append(problems, fmt.Sprintf("%d shoppers need at least %d processes of %d", o.Shoppers,
			(o.Shoppers+MaxShoppersPerProcess-1)/MaxShoppersPerProcess, MaxShoppersPerProcess))
	}
	if o.SlowShare < 0 || o.SlowShare > 1 {
		problems = append(problems, fmt.Sprintf("slow share %v is not between 0 and 1", o.SlowShare))
	}
	if o.Duration < 0 || o.Over < 0 || o.PingEvery < 0 || o.IdleFor < 0 || o.ConnectConcurrency < 0 || o.SlowDelay < 0 {
		problems = append(problems, "durations and concurrency must not be negative")
	}
	for _, src := range o.Sources {
		if net.ParseIP(src) == nil {
			problems = append(problems, fmt.Sprintf("source %q is not an IP", src))
		}
	}
	if len(problems) > 0 {
		return o, errors.New(strings.Join(problems, "; "))
	}
	return o, nil
}

// player is the configuration of player k of o.Procs: every o.Procs-th
// shopper from the k-th, from the k-th source address in turn.
func (o Options) player(k int) playerConfig {
	cfg := playerConfig{
		URLs: o.URLs, SaleID: o.SaleID, Scenario: o.Scenario,
		Shoppers: o.Shoppers / o.Procs, First: k, Stride: o.Procs, Total: o.Shoppers,
		Duration: o.Duration, Over: o.Over, ConnectConcurrency: max(1, o.ConnectConcurrency/o.Procs),
		SlowShare: o.SlowShare, SlowDelay: o.SlowDelay, PingEvery: o.PingEvery, CheckoutOverHTTP: o.CheckoutOverHTTP,
	}
	if k < o.Shoppers%o.Procs {
		cfg.Shoppers++
	}
	if len(o.Sources) > 0 {
		cfg.Source = o.Sources[k%len(o.Sources)]
	}
	return cfg
}

const usage = `usage: foyer-bench loadgen -url URL[,URL...] -sale ID -scenario hold|storm|sale|slow -shoppers N
       [-duration 30s] [-over 5s] [-procs P -sources 127.0.0.2-127.0.0.9] [-admin-token T -probe message|stock]
       [-metrics-url URL[,URL...]] [-json out.json]
`

// Main is `foyer-bench loadgen ARGS`: it runs the load, draws progress on stderr,
// and writes the results table to out (and as JSON to the -json file). With
// -player it is one player process of a larger run instead (see player.go).
func Main(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() { fmt.Fprint(out, usage); fs.PrintDefaults() }
	urls := fs.String("url", "http://127.0.0.1:8080", "gateway base URLs, comma separated; shoppers go round robin")
	metricsURLs := fs.String("metrics-url", "", "the gateways' ops ports (FOYER_METRICS_ADDR) as base URLs, comma separated, to read their metrics")
	var o Options
	fs.StringVar(&o.SaleID, "sale", "", "the sale's id")
	fs.StringVar(&o.Scenario, "scenario", Sale, "hold, storm, sale or slow")
	fs.IntVar(&o.Shoppers, "shoppers", 100, "how many shoppers play")
	fs.DurationVar(&o.Duration, "duration", 30*time.Second, "how long hold and slow run, and the most storm and sale run")
	fs.DurationVar(&o.Over, "over", 0, "spread the shoppers' starts over this long")
	fs.IntVar(&o.ConnectConcurrency, "connect-concurrency", 200, "how many shoppers arrive at the same time (from connecting to their join's answer), over all processes")
	fs.StringVar(&o.AdminToken, "admin-token", "", "with hold or slow: probe push latency through the admin API (the admin token)")
	fs.DurationVar(&o.ProbeEvery, "probe-every", 2*time.Second, "with -admin-token: how often to probe")
	fs.StringVar(&o.Probe, "probe", ProbeMessage, "with -admin-token: message (an operator message) or stock (add a unit)")
	fs.Float64Var(&o.SlowShare, "slow-share", 0.1, "with slow: the share of shoppers that read slowly")
	fs.DurationVar(&o.SlowDelay, "slow-delay", time.Second, "with slow: how long a slow shopper waits before each read")
	fs.DurationVar(&o.HoldFor, "hold-for", 0, "with hold or slow: end the run this long after everyone joined")
	fs.DurationVar(&o.PingEvery, "ping-every", 0, "how often each shopper pings (default: the client's own, 20s)")
	fs.BoolVar(&o.CheckoutOverHTTP, "checkout-over-http", false, "with sale: check out with a POST to the checkout URL, not over the socket")
	fs.DurationVar(&o.IdleFor, "idle-for", 0, "with hold and -metrics-url: keep the held crowd quiet this long (after a short lead) and read the gateways' idle CPU")
	fs.IntVar(&o.Procs, "procs", 0, fmt.Sprintf("player processes (default: one per %d shoppers)", MaxShoppersPerProcess))
	sources := fs.String("sources", "", "source IPs for the players, comma separated; A-B is a range of IPv4 addresses")
	jsonPath := fs.String("json", "", "also write the results as JSON to this file")
	playerJSON := fs.String("player", "", "internal: play as one player process of a larger run")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *playerJSON != "" {
		return playAsChild(ctx, *playerJSON, out)
	}
	for u := range strings.SplitSeq(*urls, ",") {
		if u = strings.TrimSpace(u); u != "" {
			o.URLs = append(o.URLs, u)
		}
	}
	for u := range strings.SplitSeq(*metricsURLs, ",") {
		if u = strings.TrimSpace(u); u != "" {
			o.MetricsURLs = append(o.MetricsURLs, u)
		}
	}
	var err error
	if o.Sources, err = ParseSources(*sources); err != nil {
		return err
	}
	o.Progress = os.Stderr
	res, err := Run(ctx, o)
	if err != nil {
		return err
	}
	if err := WriteTable(out, res); err != nil {
		return err
	}
	if *jsonPath != "" {
		f, err := os.Create(*jsonPath)
		if err != nil {
			return fmt.Errorf("write results: %w", err)
		}
		if err := WriteJSON(f, res); err != nil {
			f.Close()
			return fmt.Errorf("write results to %s: %w", *jsonPath, err)
		}
		if err := f.Close(); err != nil {
			return fmt.Errorf("write results to %s: %w", *jsonPath, err)
		}
	}
	return nil
}

// ParseSources reads a comma-separated list of IPs, in which A-B stands for
// every IPv4 address from A to B.
func ParseSources(list string) ([]string, error) {
	var out []string
	for item := range strings.SplitSeq(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		from, to, isRange := strings.Cut(item, "-")
		if !isRange {
			out = append(out, item)
			continue
		}
		a, errA := netip.ParseAddr(from)
		b, errB := netip.ParseAddr(to)
		if errA != nil || errB != nil || !a.Is4() || !b.Is4() || b.Less(a) {
			return nil, fmt.Errorf("source range %q is not two IPv4 addresses, low to high", item)
		}
		for ip := a; ip.Compare(b) <= 0; ip = ip.Next() {
			out = append(out, ip.String())
		}
	}
	return out, nil
}
