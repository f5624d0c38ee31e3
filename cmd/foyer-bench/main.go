// Command foyer-bench is Foyer's load and measurement tooling, kept out of
// the product binary foyer: the bench (bench), the bare WebSocket server
// Foyer is measured against (bare) and its clients (bare-crowd), the
// load generator (loadgen), and the JavaScript client's crowd measured beside
// it (jscrowd). The bench runs the gateways and the worker as
// processes of the foyer binary beside this one, and its own servers,
// clients and players as processes of this one.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"syscall"

	"github.com/foyerhq/foyer/internal/bench"
	"github.com/foyerhq/foyer/internal/loadgen"
	"github.com/foyerhq/foyer/internal/smallstacks"
)

const usage = `usage: foyer-bench <command>

commands:
  bench    start a throwaway Foyer (Redis, Postgres, gateways and a worker, run
           by the foyer binary beside this one) and bare WebSocket servers, load
           both, and write the figures with their ratios (make bench runs it)
  loadgen  play many shoppers against a running Foyer and report what they saw
  jscrowd  start a throwaway Foyer and join it with a crowd of the JavaScript
           client (@foyer/client) in one Node process, alternating with the
           load generator's storm: both join rates and their ratio
  bare [-tuned] ADDR
           the bare WebSocket server the bench measures Foyer against
           (-tuned: with the gateway's buffer sizes)
  bare-crowd URL N CONCURRENCY [PING_EVERY]
           N clients of a bare server, started by the bench

Every command answers -h or --help with its own usage.
`

// commandUsage is what each command answers to -h or --help. loadgen and
// bench print their own, with their flags: they are absent here.
var commandUsage = map[string]string{
	"bare": `usage: foyer-bench bare [-tuned] ADDR

Serves the bare WebSocket server the bench measures Foyer against, on ADDR,
with the gateway's small stacks; prints "listening ADDR" once it listens.
With -tuned it also upgrades with the gateway's buffer sizes (512 B read,
1 KiB write) rather than the 4 KiB each net/http hands over.
`,
	"bare-crowd": `usage: foyer-bench bare-crowd URL N CONCURRENCY [PING_EVERY]

Holds N clients of the bare server at URL, CONCURRENCY dialling at once,
each sending {"type":"ping"} every PING_EVERY (a duration; 0 or absent: never);
started by the bench, which closes its standard input to end it.
`,
	"help": usage,
}

// wantsHelp reports whether a command's arguments ask for its usage.
func wantsHelp(args []string) bool {
	return slices.ContainsFunc(args, func(a string) bool { return a == "-h" || a == "-help" || a == "--help" })
}

func main() {
	// The bare server is the ceiling of the gateway: it starts its
	// goroutines as small as the gateway does. The bench, its clients and
	// the load generator keep Go's default, stacks sized on the average:
	// they hold no idle goroutine worth shrinking, and every stack that
	// starts small is copied as it grows.
	if len(os.Args) > 1 && os.Args[1] == "bare" && !wantsHelp(os.Args[2:]) {
		if err := smallstacks.Use(); err != nil {
			fmt.Fprintln(os.Stderr, "foyer-bench:", err)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := realMain(ctx, os.Args[1:], os.Stdin, os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "foyer-bench:", err)
		os.Exit(1)
	}
}

var errUsage = errors.New("unknown command")

func realMain(ctx context.Context, args []string, in io.Reader, out io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(out, usage)
		return errUsage
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		fmt.Fprint(out, usage)
		return nil
	case "loadgen":
		// Its flag set prints its usage; -h is not a failure.
		return helpIsNoError(loadgen.Main(ctx, args[1:], out))
	case "bench":
		return helpIsNoError(bench.Main(ctx, args[1:], out))
	case "jscrowd":
		return helpIsNoError(bench.JSCrowdMain(ctx, args[1:], out))
	}
	text, known := commandUsage[args[0]]
	if !known {
		fmt.Fprint(out, usage)
		return fmt.Errorf("%w %q", errUsage, args[0])
	}
	if wantsHelp(args[1:]) {
		fmt.Fprint(out, text)
		return nil
	}
	switch args[0] {
	case "bare":
		rest := args[1:]
		tuned := len(rest) > 0 && (rest[0] == "-tuned" || rest[0] == "--tuned")
		if tuned {
			rest = rest[1:]
		}
		if len(rest) != 1 {
			fmt.Fprint(out, text)
			return fmt.Errorf("bare [-tuned] ADDR: got %d arguments", len(args)-1)
		}
		return bench.ServeBare(ctx, rest[0], tuned, out)
	case "bare-crowd":
		return bench.ServeBareCrowd(ctx, args[1:], in, out)
	}
	fmt.Fprint(out, usage)
	return fmt.Errorf("%w %q", errUsage, args[0])
}

// helpIsNoError turns a flag set's answer to -h, which has printed the
// usage, into success.
func helpIsNoError(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}
