// Command foyer is the Foyer waiting room: one binary whose subcommands are
// the gateway (serve), the order worker (worker), the schema migration
// (migrate), the check of a sale's state (reconcile), and everything at once
// for trying it out (dev). The load and measurement tooling is another
// binary, foyer-bench (cmd/foyer-bench): nothing of it is shipped here.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"

	"github.com/foyerhq/foyer/internal/app"
	"github.com/foyerhq/foyer/internal/smallstacks"
)

const usage = `usage: foyer <command>

commands:
  serve    run a gateway node (HTTP, WebSocket, admission)
  worker   run an order worker
  migrate  apply the Postgres migrations and exit
  dev      run Redis, Postgres, a gateway, a worker and a demo sale, for trying Foyer out
  reconcile SALE [--payments] [--repair]
           compare a sale in Redis, the order streams and Postgres (with --payments:
           its payments at the provider and its orders); with --repair, apply the
           safe fixes. Exits 1 when they differ.
  operator create USERNAME ROLE
           make an operator account (viewer, operator or admin); the password
           is read from standard input

Every command answers -h or --help with its own usage.
Configuration comes from FOYER_* environment variables: see README.md.
The load generator and the bench are another binary: foyer-bench help.
`

// commandUsage is what each command answers to -h or --help.
var commandUsage = map[string]string{
	"serve": `usage: foyer serve

Runs a gateway node: HTTP, WebSocket, admission and the outbox relay.
Needs FOYER_REDIS_URL, FOYER_DATABASE_URL, FOYER_ADMIN_TOKEN (at least 24
characters), FOYER_SIGNING_KEYS and FOYER_PAYMENT_WEBHOOK_SECRET (at least 32
bytes); Redis must run with appendonly yes and appendfsync always, or
checkouts are refused (FOYER_ALLOW_VOLATILE_REDIS=true takes them anyway, for
throwaway runs). Every setting: README.md.
`,
	"worker": `usage: foyer worker

Runs an order worker: it writes confirmed reservations to Postgres as orders
and settles their payments. Needs FOYER_REDIS_URL, FOYER_DATABASE_URL and
FOYER_PAYMENT_WEBHOOK_SECRET (at least 32 bytes). Every setting: README.md.
`,
	"migrate": `usage: foyer migrate

Applies the Postgres migrations to FOYER_DATABASE_URL and exits.
`,
	"dev": `usage: foyer dev

Starts throwaway Redis and Postgres servers in FOYER_DATA_DIR (cleared first),
a gateway, an order worker, a demo sale and a second one sold through the
example shop (FOYER_DEMO_SHOP_URL; its settings go to FOYER_DATA_DIR/shop.env,
for make shop), and prints where to go. Ctrl-C stops everything.
`,
	"reconcile": `usage: foyer reconcile SALE [--payments] [--repair]

Compares sale SALE in Redis, the order streams and Postgres, and prints the
report; exits 1 when they differ. With --repair, rebuilds the sale's Redis
state from Postgres first. Reads FOYER_REDIS_URL and FOYER_DATABASE_URL.

With --payments, lays the sale's payments at the payment provider (Stripe,
found by their metadata) beside its orders instead, and reports: paid at the
provider but not here, paid here but not at the provider, amounts or
currencies that differ, payments with no order. Exits 1 on a difference.
With --repair it marks paid the orders the provider says are paid, and
refunds the paid payments with no order, for a cancelled order, or paid
twice; it never unmarks an order nor changes an amount. Needs
FOYER_PAYMENT_PROVIDER=stripe and FOYER_STRIPE_SECRET_KEY. See
docs/payments.md.
`,
	"operator": `usage: foyer operator create USERNAME ROLE

Makes an operator account in FOYER_DATABASE_URL, with ROLE viewer, operator or
admin, and the password read from the first line of standard input (so that
it is in no process list nor shell history):

  printf '%s\n' "$PASSWORD" | foyer operator create alice@shop.example admin

The first admin can be made so, or with the admin token through the admin
API. See docs/operators.md.
`,
	"help": usage,
}

// wantsHelp reports whether a command's arguments ask for its usage.
func wantsHelp(args []string) bool {
	return slices.ContainsFunc(args, func(a string) bool { return a == "-h" || a == "-help" || a == "--help" })
}

func main() {
	// Gateways hold a goroutine per shopper, so small stacks pay there; the
	// other commands hold no idle goroutine worth shrinking.
	if len(os.Args) > 1 && slices.Contains([]string{"serve", "dev"}, os.Args[1]) {
		if err := smallstacks.Use(); err != nil {
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

// toolingCommands moved to foyer-bench: asked of foyer, they answer where
// they went.
var toolingCommands = []string{"bench", "bench-bare", "bench-bare-crowd", "loadgen"}

func realMain(ctx context.Context, args []string, environ map[string]string, out io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(out, usage)
		return errUsage
	}
	// Help reads no configuration and connects nowhere: it must work on a
	// machine with nothing set up, and never act on "--help" as an argument
	// (a sale of that name, say).
	switch args[0] {
	case "help", "-h", "-help", "--help":
		fmt.Fprint(out, usage)
		return nil
	}
	text, known := commandUsage[args[0]]
	if !known {
		fmt.Fprint(out, usage)
		if slices.Contains(toolingCommands, args[0]) {
			return fmt.Errorf("%w %q: the load and bench tooling is foyer-bench now (make build builds bin/foyer-bench; foyer-bench help)", errUsage, args[0])
		}
		return fmt.Errorf("%w %q", errUsage, args[0])
	}
	if wantsHelp(args[1:]) {
		fmt.Fprint(out, text)
		return nil
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
		saleID, payments, repair, ok := reconcileArgs(args[1:])
		if !ok {
			fmt.Fprint(out, usage)
			return errUsage
		}
		if payments {
			return app.ReconcilePayments(ctx, cfg, saleID, repair, out, os.Stderr)
		}
		return app.Reconcile(ctx, cfg, saleID, repair, out)
	case "operator":
		if len(args) != 4 || args[1] != "create" {
			fmt.Fprint(out, commandUsage["operator"])
			return errors.New("usage: foyer operator create USERNAME ROLE (the password on standard input)")
		}
		return app.CreateOperator(ctx, cfg, args[2], args[3], os.Stdin, out)
	}
	fmt.Fprint(out, usage)
	return fmt.Errorf("%w %q", errUsage, args[0])
}

// reconcileArgs reads "SALE [--payments] [--repair]", the flags in any
// order after the sale, each once.
func reconcileArgs(args []string) (saleID string, payments, repair, ok bool) {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return "", false, false, false
	}
	for _, a := range args[1:] {
		switch {
		case a == "--payments" && !payments:
			payments = true
		case a == "--repair" && !repair:
			repair = true
		default:
			return "", false, false, false
		}
	}
	return args[0], payments, repair, true
}
