package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/foyerhq/foyer/internal/loadgen"
)

// JSCrowdOptions configure `foyer-bench jscrowd`: the JavaScript client's
// crowd (clients/js/load/crowd.mjs, one Node process) and the Go load
// generator's storm (one player process), joining alike-made sales of one
// throwaway Foyer, in alternating rounds.
type JSCrowdOptions struct {
	Shoppers    int    // in each crowd; at most 18,000, one gateway's ceiling
	Rounds      int    // rounds of Node then Go; each figure is the median of its rounds
	Concurrency int    // shoppers arriving at once, on both sides (the load generator's default: 200)
	Script      string // crowd.mjs
	Node        string // the node executable
	Foyer, Self string // as Options'
	Progress    io.Writer
	ServerLog   io.Writer
}

// JSCrowdRound is one round's two crowds.
type JSCrowdRound struct {
	Node JSCrowdResult
	Go   loadgen.Result
}

// JSCrowdResult is the JSON line crowd.mjs prints.
type JSCrowdResult struct {
	Shoppers       int              `json:"shoppers"`
	Placed         int              `json:"placed"`
	Failed         int              `json:"failed"`
	Rose           int              `json:"rose"`
	Reconnects     int              `json:"reconnects"`
	Errors         map[string]int   `json:"errors"`
	JoinsPerSecond float64          `json:"joins_per_second"`
	AllPlacedMs    float64          `json:"all_placed_ms"`
	JoinLatencyMs  map[string]int64 `json:"join_latency_ms"`
	CPUPerJoinUs   float64          `json:"cpu_per_join_us"`
	RSSBytes       float64          `json:"rss_bytes"`
	HeapUsedBytes  float64          `json:"heap_used_bytes"`
	Node           string           `json:"node"`
}

// JSCrowdUsage is the first lines of `foyer-bench jscrowd -h`.
const JSCrowdUsage = `usage: foyer-bench jscrowd [flags]

Starts a throwaway Foyer (Redis, Postgres, one gateway and a worker, processes
of the foyer binary beside foyer-bench, or of -foyer), then, in alternating
rounds on fresh sales, a crowd of @foyer/client shoppers in one Node process
(clients/js/load/crowd.mjs; make js builds the client first) and the Go load
generator's storm of as many in one player process. Prints each side's join
rate and their ratio (Node / Go), the Node crowd's time to all placed and
memory, and fails if a Node shopper was not placed or saw its position rise.

flags:
`

// JSCrowdMain is `foyer-bench jscrowd ARGS`.
func JSCrowdMain(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("jscrowd", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() { fmt.Fprint(out, JSCrowdUsage); fs.PrintDefaults() }
	var o JSCrowdOptions
	fs.IntVar(&o.Shoppers, "shoppers", 10000, "shoppers in each crowd, Node's and Go's")
	fs.IntVar(&o.Rounds, "rounds", 2, "rounds of the Node crowd then the Go storm; each figure is the median of its rounds")
	fs.IntVar(&o.Concurrency, "concurrency", 200, "shoppers arriving at once, on both sides")
	fs.StringVar(&o.Script, "script", filepath.Join("clients", "js", "load", "crowd.mjs"), "the Node crowd script")
	fs.StringVar(&o.Node, "node", "node", "the node executable")
	fs.StringVar(&o.Foyer, "foyer", "", "the foyer binary to run the gateway and the worker with (default: foyer beside foyer-bench, else on PATH)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.Shoppers < 1 || o.Shoppers > barePerProcess || o.Rounds < 1 || o.Concurrency < 1 {
		return fmt.Errorf("jscrowd: -shoppers 1 to %d (one gateway holds them all), -rounds and -concurrency at least 1", barePerProcess)
	}
	o.Progress = os.Stderr
	rounds, err := RunJSCrowd(ctx, o)
	if len(rounds) > 0 {
		writeJSCrowd(out, o, rounds)
	}
	return err
}

// errCrowdFailed: a Node shopper was not placed, or saw its position rise.
var errCrowdFailed = errors.New("the Node crowd was not all placed, or a position rose")

// RunJSCrowd runs the rounds and returns them; it stops at the first round
// whose Node crowd failed, returning that round too.
func RunJSCrowd(ctx context.Context, o JSCrowdOptions) ([]JSCrowdRound, error) {
	if _, err := os.Stat(filepath.Join(filepath.Dir(o.Script), "..", "dist", "esm", "index.js")); err != nil {
		return nil, fmt.Errorf("jscrowd: the client is not built beside %s (run make js): %w", o.Script, err)
	}
	if err := findBinaries(&o.Self, &o.Foyer); err != nil {
		return nil, err
	}
	if o.ServerLog == nil {
		o.ServerLog = io.Discard
	}
	say := func(format string, args ...any) {
		if o.Progress != nil {
			fmt.Fprintf(o.Progress, "jscrowd: "+format+"\n", args...)
		}
	}
	say("starting Redis, Postgres, a gateway and a worker")
	c, err := startCluster(ctx, o.Foyer, 1, o.ServerLog)
	if err != nil {
		return nil, err
	}
	defer c.stop()

	var rounds []JSCrowdRound
	for k := range o.Rounds {
		var rd JSCrowdRound
		say("round %d of %d: %d shoppers of @foyer/client in one Node process", k+1, o.Rounds, o.Shoppers)
		if rd.Node, err = c.nodeCrowd(ctx, o); err != nil {
			return rounds, err
		}
		if rd.Node.Placed != o.Shoppers || rd.Node.Rose != 0 {
			return append(rounds, rd), fmt.Errorf("jscrowd: round %d: %d of %d placed, %d positions rose: %w",
				k+1, rd.Node.Placed, o.Shoppers, rd.Node.Rose, errCrowdFailed)
		}
		say("round %d of %d: %d shoppers of the Go load generator (storm) in one player process", k+1, o.Rounds, o.Shoppers)
		if rd.Go, err = c.goStorm(ctx, o); err != nil {
			return rounds, err
		}
		rounds = append(rounds, rd)
	}
	return rounds, nil
}

// The two crowds come from their own loopback addresses, so neither meets
// the other's sockets lingering in TIME_WAIT.
const (
	nodeCrowdSources = "127.0.0.2-127.0.0.5"
	goStormSource    = "127.0.0.6"
)

// nodeCrowd runs crowd.mjs against a fresh, stalled sale (nobody let out:
// the join alone is measured, as in the Go storm) and reads its result.
func (c *cluster) nodeCrowd(ctx context.Context, o JSCrowdOptions) (JSCrowdResult, error) {
	sale, err := c.createSale(ctx, 1000, 0.001)
	if err != nil {
		return JSCrowdResult{}, err
	}
	defer c.endSale(context.WithoutCancel(ctx), sale)
	cmd := exec.CommandContext(ctx, o.Node, "--expose-gc", o.Script, "--url", c.urls[0], "--sale", sale,
		"--shoppers", fmt.Sprint(o.Shoppers), "--concurrency", fmt.Sprint(o.Concurrency),
		"--sources", nodeCrowdSources, "--timeout", "600")
	cmd.Stderr = orDiscard(o.Progress)
	raw, runErr := cmd.Output()
	var res JSCrowdResult
	if err := json.Unmarshal(bytes.TrimSpace(raw), &res); err != nil {
		return res, fmt.Errorf("jscrowd: the Node crowd printed no result (%v): %w: %s", runErr, err, raw)
	}
	return res, nil // a failed crowd exits 1 with its result: the caller reads it
}

// goStorm runs the load generator's storm, in a player process of its own
// as the Node crowd is, against a fresh sale made as the Node crowd's.
func (c *cluster) goStorm(ctx context.Context, o JSCrowdOptions) (loadgen.Result, error) {
	sale, err := c.createSale(ctx, 1000, 0.001)
	if err != nil {
		return loadgen.Result{}, err
	}
	defer c.endSale(context.WithoutCancel(ctx), sale)
	return loadgen.Run(ctx, loadgen.Options{
		URLs: c.urls, SaleID: sale, Scenario: loadgen.Storm, Shoppers: o.Shoppers, Duration: 10 * time.Minute,
		ConnectConcurrency: o.Concurrency, Procs: 1, Apart: true, Sources: []string{goStormSource},
		Exec: []string{o.Self, "loadgen"}, Progress: o.Progress,
	})
}

// orDiscard is w, or io.Discard for none.
func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

// writeJSCrowd prints the rounds and their medians as a markdown table.
func writeJSCrowd(out io.Writer, o JSCrowdOptions, rounds []JSCrowdRound) {
	var nodeRate, goRate, ratio, placed, rss, nodeP95, goP95 []float64
	fmt.Fprintf(out, "\n%d shoppers a crowd, %d arriving at once, one gateway; Node %s.\n\n", o.Shoppers, o.Concurrency, rounds[0].Node.Node)
	fmt.Fprintln(out, "| round | Node joins/s | Go joins/s | Node / Go | Node: all placed | Node: RSS (per shopper) | join p95: Node / Go | client CPU per join: Node / Go | Node: rose, failed, reconnects |")
	fmt.Fprintln(out, "|---|---|---|---|---|---|---|---|---|")
	for k, rd := range rounds {
		n, g := rd.Node, rd.Go
		r := 0.0
		if g.JoinsPerSecond > 0 {
			r = n.JoinsPerSecond / g.JoinsPerSecond
		}
		p95 := float64(n.JoinLatencyMs["p95"])
		goCPU := 0.0
		if g.Joined > 0 {
			goCPU = float64(g.JoinCPU.Microseconds()) / float64(g.Joined)
		}
		fmt.Fprintf(out, "| %d | %.0f | %.0f | %.2f | %.1f s | %.0f MiB (%.1f KiB) | %.0f ms / %.0f ms | %.0f µs / %.0f µs | %d, %d, %d |\n", k+1,
			n.JoinsPerSecond, g.JoinsPerSecond, r, n.AllPlacedMs/1000, n.RSSBytes/(1<<20), n.RSSBytes/1024/float64(max(1, n.Shoppers)),
			p95, float64(g.JoinLatency.P95)/float64(time.Millisecond), n.CPUPerJoinUs, goCPU, n.Rose, n.Failed, n.Reconnects)
		if g.JoinsPerSecond > 0 {
			nodeRate, goRate, ratio = append(nodeRate, n.JoinsPerSecond), append(goRate, g.JoinsPerSecond), append(ratio, r)
			goP95 = append(goP95, float64(g.JoinLatency.P95)/float64(time.Millisecond))
		}
		placed, rss, nodeP95 = append(placed, n.AllPlacedMs/1000), append(rss, n.RSSBytes), append(nodeP95, p95)
	}
	m := func(xs []float64) float64 { return spreadOf(xs).Median }
	fmt.Fprintf(out, "| median | %.0f | %.0f | %.2f | %.1f s | %.0f MiB (%.1f KiB) | %.0f ms / %.0f ms | | |\n",
		m(nodeRate), m(goRate), m(ratio), m(placed), m(rss)/(1<<20), m(rss)/1024/float64(o.Shoppers), m(nodeP95), m(goP95))
	if errs := rounds[len(rounds)-1].Node.Errors; len(errs) > 0 {
		var parts []string
		for code, n := range errs {
			parts = append(parts, fmt.Sprintf("%s %d", code, n))
		}
		fmt.Fprintf(out, "\nThe last Node crowd's failures: %s.\n", strings.Join(parts, ", "))
	}
}
