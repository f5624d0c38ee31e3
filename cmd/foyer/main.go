// Command foyer is the Foyer waiting room: one binary whose subcommands are
// the gateway (serve), the order worker (worker), the schema migration
// (migrate), and everything at once for trying it out (dev).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"syscall"

	"github.com/foyerhq/foyer/internal/app"
	"github.com/foyerhq/foyer/internal/bench"
	"github.com/foyerhq/foyer/internal/loadgen"
)

const usage = `usage: foyer <command>

commands:
  serve    run a gateway node (HTTP, WebSocket, admission)
  worker   run an order worker
  migrate  apply the Postgres migrations and exit
  dev      run Redis, Postgres, a gateway, a worker and a demo sale, for trying Foyer out
  reconcile SALE [--repair]
           compare a sale in Redis, the order streams and Postgres; with --repair,
           rebuild its Redis state from Postgres. Exits 1 when they differ.
  loadgen  play many shoppers against a running Foyer and report what they saw
           (foyer loadgen -h for its flags)
  bench    start a throwaway Foyer (Redis, Postgres, gateways, a worker) and a bare
           WebSocket server, load both, and write the figures with their ratios
           (foyer bench -h for its flags)
  bench-bare ADDR
           the bare WebSocket server foyer bench measures Foyer against
  bench-bare-crowd URL N CONCURRENCY
           N clients of a bare server, started by foyer bench

Configuration comes from FOYER_* environment variables: see README.md.
`

func main() {
	// Servers hold a goroutine per shopper, so small stacks pay there. The
	// load generator and the bench's clients keep Go's default, stacks
	// sized on the average: they hold no idle goroutine worth shrinking,
	// and every stack that starts small is copied as it grows.
	if len(os.Args) > 1 && slices.Contains([]string{"serve", "dev", "bench-bare"}, os.Args[1]) {
		if err := app.UseSmallStacks(); err != nil {
			fmt.Fprintln(os.Stderr, "foyer:", err)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := realMain(ctx, os.Args[1:], app.Environ(), os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "foyer:", err)
		os.Exit(1)
	}
}

var errUsage = errors.New("unknown command")

func realMain(ctx context.Context, args []string, environ map[string]string, out io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(out, usage)
		return errUsage
	}
	cfg, err := app.LoadConfig(environ)
	if err != nil {
		return err
	}
	log := app.NewLogger(cfg)
	switch args[0] {
	case "serve":
		gw, err := app.NewGateway(ctx, cfg, log)
		if err != nil {
			return err
		}
		defer gw.Close()
		log.Info("gateway listening", "addr", gw.Addr(), "node", cfg.NodeID)
		return gw.Run(ctx)
	case "worker":
		w, err := app.NewWorker(ctx, cfg, log)
		if err != nil {
			return err
		}
		defer w.Close()
		log.Info("order worker running", "node", cfg.NodeID)
		return w.Run(ctx)
	case "migrate":
		return app.Migrate(ctx, cfg)
	case "dev":
		return app.Dev(ctx, cfg, log, out)
	case "reconcile":
		if len(args) < 2 || len(args) > 3 || (len(args) == 3 && args[2] != "--repair") {
			fmt.Fprint(out, usage)
			return errUsage
		}
		return app.Reconcile(ctx, cfg, args[1], len(args) == 3, out)
	case "loadgen":
		return loadgen.Main(ctx, args[1:], out)
	case "bench":
		return bench.Main(ctx, args[1:], out)
	case "bench-bare":
		if len(args) != 2 {
			fmt.Fprint(out, usage)
			return errUsage
		}
		return bench.ServeBare(ctx, args[1], out)
	case "bench-bare-crowd":
		return bench.ServeBareCrowd(ctx, args[1:], os.Stdin, out)
	case "help", "-h", "--help":
		fmt.Fprint(out, usage)
		return nil
	}
	fmt.Fprint(out, usage)
	return fmt.Errorf("%w %q", errUsage, args[0])
}
