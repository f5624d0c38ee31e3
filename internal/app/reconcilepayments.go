package app

import (
	"context"
	"errors"
	"io"
	"log/slog"

	"github.com/foyerhq/foyer/internal/reconcile"
	"github.com/foyerhq/foyer/internal/stripepay"
	"github.com/foyerhq/foyer/internal/webhooks"
	"github.com/foyerhq/foyer/waitingroom"
	"github.com/foyerhq/foyer/worker"
)

// ErrNoLedger means `foyer reconcile --payments` was asked of the test
// provider, whose ledger lives in the worker that charged: another process
// cannot read it.
var ErrNoLedger = errors.New("the test payment provider keeps its payments in the worker's memory: " +
	"reconcile --payments needs FOYER_PAYMENT_PROVIDER=stripe")

// ReconcilePayments lays a sale's payments at the provider beside its
// orders and prints the differences; with repair it applies the safe fixes
// first (reconcile.PaymentReconciler.Repair). It returns
// reconcile.ErrPaymentsDiffer while a difference is left. Progress lines of
// a long run go to progress.
func ReconcilePayments(ctx context.Context, cfg Config, saleID string, repair bool, out, progress io.Writer) error {
	if cfg.PaymentProvider != providerStripe {
		return ErrNoLedger
	}
	provider, err := stripepay.New(stripepay.Config{SecretKey: cfg.StripeSecretKey, APIBase: cfg.StripeAPIBase})
	if err != nil {
		return err
	}
	rdb, err := connectRedis(ctx, cfg.RedisURL, nil)
	if err != nil {
		return err
	}
	defer rdb.Close()
	db, err := connectPostgres(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	// Orders are marked paid by the worker's own settler, with the webhook
	// events it records: the shop hears of a repaired order as of any other.
	rooms := waitingroom.NewRooms(rdb)
	settler := worker.NewPaymentSettler(db, rooms, rooms, provider, slog.New(slog.NewTextHandler(progress, nil)))
	settler.Events = webhooks.NewRecorder()
	r := reconcile.NewPaymentReconciler(db, provider, settler)
	r.Progress = progress
	return r.Reconcile(ctx, saleID, repair, out)
}
