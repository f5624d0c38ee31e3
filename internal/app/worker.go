package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/jmoiron/sqlx"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/redis/go-redis/v9"

	"github.com/foyerhq/foyer/checkout"
	"github.com/foyerhq/foyer/internal/opsport"
	"github.com/foyerhq/foyer/internal/redismetrics"
	"github.com/foyerhq/foyer/internal/webhooks"
	"github.com/foyerhq/foyer/waitingroom"
	"github.com/foyerhq/foyer/worker"
)

// Worker is one order worker process.
type Worker struct {
	rdb      redis.UniversalClient
	db       *sqlx.DB
	worker   *worker.Worker
	payments paymentProvider      // closed when Run ends: the test provider's deliveries end
	hooks    *webhooks.Dispatcher // the shop's webhooks, sent
	tail     *webhooks.Tail       // the sales' events, recorded for them
	ops      *opsport.Port        // metrics and profiles; nil when FOYER_WORKER_METRICS_ADDR is off
}

// NewWorker connects to Redis and Postgres, migrates and builds the consumer.
func NewWorker(ctx context.Context, cfg Config, log *slog.Logger) (*Worker, error) {
	if err := cfg.checkWorker(); err != nil {
		return nil, err
	}
	w := &Worker{}
	var err error
	// The worker takes no checkout, but says when Redis could lose them.
	persistence := newDurability(cfg.AllowVolatileRedis, false, log)
	if w.rdb, err = connectRedis(ctx, cfg.RedisURL, persistence.onConnect); err != nil {
		return nil, err
	}
	if w.db, err = connectPostgres(ctx, cfg.DatabaseURL); err != nil {
		w.Close()
		return nil, err
	}
	rooms := waitingroom.NewRooms(w.rdb)
	if w.payments, err = newPaymentProvider(cfg, log); err != nil {
		w.Close()
		return nil, err
	}
	writer := worker.NewOrderWriter(w.db, rooms, w.payments, log)
	// A pending order's payment secret outlives its payment by nothing: by
	// twice the timeout the sweeper has settled the order.
	writer.Secrets = checkout.NewPaymentSecrets(w.rdb, 2*cfg.PaymentTimeout)
	settler := worker.NewPaymentSettler(w.db, rooms, rooms, w.payments, log)
	settler.Timeout = cfg.PaymentTimeout
	if refunds, ok := w.payments.(worker.LateRefunder); ok {
		settler.Refunds = refunds // a payment that succeeds after its order was cancelled is refunded (Stripe; the test provider's results name no payment, so it refunds none)
	}
	if cancels, ok := w.payments.(worker.PaymentCanceller); ok {
		settler.Cancels = cancels // the sweeper cancels a timed-out order's PaymentIntent (Stripe)
	}
	// The shop's webhooks: order events recorded in the order workers'
	// transactions, sale events read from the sales' streams, and every
	// delivery sent from here, endpoint by endpoint.
	recorder := webhooks.NewRecorder()
	writer.Events, settler.Events = recorder, recorder
	w.tail = webhooks.NewTail(w.db, rooms, log)
	w.tail.Poll = cfg.WebhookPoll
	w.hooks = webhooks.NewDispatcher(w.db, webhooks.Config{RetryBase: cfg.WebhookRetryBase,
		RetryMaxDelay: cfg.WebhookRetryMaxDelay, MaxAge: cfg.WebhookMaxAge, Timeout: cfg.WebhookTimeout,
		Poll: cfg.WebhookPoll, AllowPrivate: cfg.WebhookAllowPrivate, Retention: cfg.WebhookRetention}, log)
	subClient, err := connectRedis(ctx, cfg.RedisURL, nil)
	if err != nil {
		w.Close()
		return nil, err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	redisCalls, err := redismetrics.New(reg)
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("redis metrics: %w", err)
	}
	w.rdb.AddHook(redisCalls)
	subClient.AddHook(redisCalls)
	if w.worker, err = worker.New(w.rdb, subClient, writer, settler, worker.Config{Consumer: cfg.NodeID, ClaimIdle: cfg.WorkerClaimIdle,
		Partitions: cfg.partitions(), Registerer: reg}, log); err != nil {
		w.Close()
		return nil, err
	}
	if w.ops, err = opsport.Listen(cfg.WorkerMetricsAddr, "FOYER_WORKER_METRICS_ADDR", opsport.Handler(reg)); err != nil {
		w.Close()
		return nil, err
	}
	return w, nil
}

// Run consumes until ctx ends. It returns once the consumers, the payment
// sweeper and the test provider's webhook deliveries have all ended.
func (w *Worker) Run(ctx context.Context) error {
	// The webhooks run beside the consumers, not inside them: a slow
	// endpoint never holds up an order. They stop with ctx, or when the
	// consumers stop on their own (Redis gone as they subscribe, say): a
	// worker that consumes nothing must exit for its supervisor to see.
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	var hooks sync.WaitGroup
	hooks.Add(3)
	go func() { defer hooks.Done(); _ = w.ops.Serve() }() // ends with Close below
	go func() { defer hooks.Done(); _ = w.hooks.Run(ctx) }()
	go func() { defer hooks.Done(); _ = w.tail.Run(ctx) }()
	err := w.worker.Run(ctx)
	stop()
	w.ops.Close()
	w.payments.Close() // no charge comes once the consumers stopped; a webhook not yet sent goes once more
	hooks.Wait()
	return err
}

// OpsAddr is where the worker serves its metrics and profiles, empty when
// FOYER_WORKER_METRICS_ADDR is off.
func (w *Worker) OpsAddr() string { return w.ops.Addr() }

// Running is closed once the worker consumes.
func (w *Worker) Running() chan struct{} { return w.worker.Running() }

// Close releases the connections. Call it after Run has returned.
func (w *Worker) Close() error {
	var errs []error
	w.ops.Close()
	if w.db != nil {
		errs = append(errs, w.db.Close())
	}
	if w.rdb != nil {
		errs = append(errs, w.rdb.Close())
	}
	return errors.Join(errs...)
}
