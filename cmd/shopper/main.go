// Command shopper is one shopper in a Foyer sale, from a terminal: it joins,
// prints every message the server sends as a line of JSON, checks out when
// admitted, and exits once it has an order (status 0) or the sale is sold out
// or over (status 1).
//
//	go run ./cmd/shopper -url http://localhost:8080 -sale s_xxx
//
// It uses nothing but shopperclient.Shopper, and is meant to be read as an
// example of it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/foyerhq/foyer/internal/shopperclient"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := realMain(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "shopper:", err)
		os.Exit(1)
	}
}

// realMain runs one shopper; the messages go to out, what the shopper does
// about them to log.
func realMain(ctx context.Context, args []string, out, log io.Writer) error {
	flags := flag.NewFlagSet("shopper", flag.ContinueOnError)
	flags.SetOutput(log)
	urls := flags.String("url", "http://localhost:8080", "gateway base URL; several, comma separated, to move between nodes")
	saleID := flags.String("sale", "", "id of the sale to join (required)")
	timeout := flags.Duration("timeout", 0, "give up after this long; 0 waits as long as the sale lasts")
	if err := flags.Parse(args); err != nil {
		return err
	}
	if *saleID == "" {
		flags.Usage()
		return errors.New("-sale is required")
	}
	if *timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *timeout)
		defer cancel()
	}
	ctx, finish := context.WithCancel(ctx)
	defer finish()

	sh := shopperclient.NewShopper(strings.Split(*urls, ","), *saleID,
		shopperclient.OnDisconnect(func(err error, wait time.Duration) {
			fmt.Fprintf(log, "# disconnected (%v), reconnecting in %v\n", err, wait.Round(time.Millisecond))
		}))
	ran := make(chan error, 1)
	go func() { ran <- sh.Run(ctx) }()
	if err := sh.Join(ctx); err != nil { // sent once connected
		return err
	}

	finished, outcome := false, error(nil) // how the shopper's sale ended
	done := func(err error) { finished, outcome = true, err; finish() }
	tooEarly := false // a join came before the prequeue opened: join again when it does
	for m := range sh.Messages() {
		fmt.Fprintln(out, string(m.Raw))
		switch m.Type {
		case "admitted":
			res, err := sh.Checkout(ctx, m)
			if err != nil {
				// A hold that lapsed also comes as "expired": join again then.
				fmt.Fprintf(log, "# checkout: %v\n", err)
				continue
			}
			fmt.Fprintf(log, "# checked out reservation %s: %s, waiting for the order\n", res.ReservationID, res.Status)
		case "expired":
			fmt.Fprintln(log, "# the hold lapsed: joining again")
			sh.Join(ctx)
		case "order":
			switch m.Status {
			case "paid":
				fmt.Fprintf(log, "# order %d paid\n", m.OrderID)
				done(nil)
			case "cancelled":
				done(fmt.Errorf("order %d cancelled: the payment failed", m.OrderID))
			default:
				fmt.Fprintf(log, "# order %d %s\n", m.OrderID, m.Status)
			}
		case "sold_out":
			done(errors.New("sold out"))
		case "state":
			switch {
			case m.State == "ended":
				done(errors.New("the sale ended"))
			case tooEarly && (m.State == "prequeue" || m.State == "open"):
				tooEarly = false
				sh.Join(ctx)
			}
		case "error":
			switch m.Code {
			case "too_early":
				tooEarly = true
				fmt.Fprintf(log, "# the sale's queue is not open yet: %s\n", m.Message)
			case "sold_out", "sale_ended":
				done(errors.New(m.Message))
			}
		}
	}
	err := <-ran
	switch {
	case finished:
		return outcome
	case errors.Is(err, context.Canceled):
		return nil // interrupted: the user asked
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("no order after %v", *timeout)
	default:
		return err
	}
}
