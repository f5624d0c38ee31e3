// Package loadgen is `foyer loadgen`: it plays many shoppers against a
// running Foyer over the real protocol (internal/shopperclient), in one of
// three scenarios, and reports what they saw.
//
//   - hold: every shopper connects, joins and then only listens, for the
//     whole duration; it measures how many connections a deployment holds.
//   - storm: every shopper connects and joins within a window; it measures
//     joins per second and the latency of a join (join sent → first
//     position, prequeue or admitted reply).
//   - sale: every shopper joins, every admitted one checks out; it measures
//     admissions, paid orders, sold-out shoppers and the latency from
//     admission to paid order.
//
// Shoppers are spread round robin over the nodes given, and connect at most
// ConnectConcurrency at a time so a run does not stampede its own sockets.
//
// One process is one source address, and the kernel's ephemeral ports limit
// it to some tens of thousands of sockets towards one node; this first cut
// therefore plays at most 20,000 shoppers per process. Larger runs need
// several processes, on several source addresses, whose results are added
// up: a later step.
package loadgen

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// Scenarios.
const (
	Hold  = "hold"
	Storm = "storm"
	Sale  = "sale"
)

// MaxShoppersPerProcess is the most shoppers one process plays (see the
// package doc).
const MaxShoppersPerProcess = 20000

// Options configure a run.
type Options struct {
	// URLs are the gateway nodes' base URLs; shopper i uses URLs[i%len(URLs)].
	URLs []string
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
	// ConnectConcurrency is how many shoppers may be creating a session and
	// opening a WebSocket at the same moment. Defaults to 200.
	ConnectConcurrency int
	// Progress, when not nil, gets a progress line redrawn every second.
	Progress io.Writer
	// AdminToken, when set, makes a hold run probe push latency: every
	// ProbeEvery it sends an operator message stamped with its send time
	// through the admin API, and every shopper measures how long it took to
	// arrive (the two share this process's clock).
	AdminToken string
	// ProbeEvery is how often a probe is sent. Defaults to 2 s.
	ProbeEvery time.Duration
}

// Result is what a run measured.
type Result struct {
	Scenario string
	Shoppers int
	Elapsed  time.Duration

	Connected int64 // WebSockets opened
	Held      int64 // connections still open when the run stopped
	Joined    int64 // joins answered
	Admitted  int64
	Paid      int64
	Cancelled int64
	SoldOut   int64
	Expired   int64

	Errors      int64            // all errors
	ErrorCodes  map[string]int64 // errors by code
	JoinLatency LatencySummary   // join sent → first reply
	// AdmitToPaid is the latency from the admitted message to the order
	// message with status paid, checkout included.
	AdmitToPaid LatencySummary
	// PushLatency is the latency of an operator's broadcast, from the admin
	// request to each shopper (hold runs with AdminToken).
	PushLatency     LatencySummary
	JoinsPerSecond  float64 // joins answered over the time from the first join to the last answer
	OrdersPerSecond float64 // paid orders over the time from the first admission to the last paid order
}

// withDefaults checks o and fills in its defaults.
func (o Options) withDefaults() (Options, error) {
	o.Duration = cmp.Or(o.Duration, 30*time.Second)
	o.ConnectConcurrency = cmp.Or(o.ConnectConcurrency, 200)
	o.ProbeEvery = cmp.Or(o.ProbeEvery, 2*time.Second)
	var problems []string
	if len(o.URLs) == 0 {
		problems = append(problems, "no node URL")
	}
	if o.SaleID == "" {
		problems = append(problems, "no sale")
	}
	if o.Scenario != Hold && o.Scenario != Storm && o.Scenario != Sale {
		problems = append(problems, fmt.Sprintf("scenario %q is not hold, storm or sale", o.Scenario))
	}
	if o.Shoppers < 1 || o.Shoppers > MaxShoppersPerProcess {
		problems = append(problems, fmt.Sprintf("shoppers %d is not between 1 and %d (run more processes for more)", o.Shoppers, MaxShoppersPerProcess))
	}
	if o.Duration < 0 || o.Over < 0 || o.ConnectConcurrency < 0 {
		problems = append(problems, "durations and concurrency must not be negative")
	}
	if len(problems) > 0 {
		return o, errors.New(strings.Join(problems, "; "))
	}
	return o, nil
}

const usage = `usage: foyer loadgen -url URL[,URL...] -sale ID -scenario hold|storm|sale -shoppers N [-duration 30s] [-over 5s] [-json out.json]
`

// Main is `foyer loadgen ARGS`: it runs the load, draws progress on stderr,
// and writes the results table to out (and as JSON to the -json file).
func Main(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() { fmt.Fprint(out, usage); fs.PrintDefaults() }
	urls := fs.String("url", "http://127.0.0.1:8080", "gateway base URLs, comma separated; shoppers go round robin")
	var o Options
	fs.StringVar(&o.SaleID, "sale", "", "the sale's id")
	fs.StringVar(&o.Scenario, "scenario", Sale, "hold, storm or sale")
	fs.IntVar(&o.Shoppers, "shoppers", 100, "how many shoppers play")
	fs.DurationVar(&o.Duration, "duration", 30*time.Second, "how long hold runs, and the most storm and sale run")
	fs.DurationVar(&o.Over, "over", 0, "spread the shoppers' starts over this long")
	fs.IntVar(&o.ConnectConcurrency, "connect-concurrency", 200, "how many shoppers connect at the same time")
	fs.StringVar(&o.AdminToken, "admin-token", "", "with hold: probe push latency with operator messages (the admin token)")
	fs.DurationVar(&o.ProbeEvery, "probe-every", 2*time.Second, "with -admin-token: how often to probe")
	jsonPath := fs.String("json", "", "also write the results as JSON to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	for u := range strings.SplitSeq(*urls, ",") {
		if u = strings.TrimSpace(u); u != "" {
			o.URLs = append(o.URLs, u)
		}
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
