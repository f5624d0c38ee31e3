package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wmmetrics "github.com/ThreeDotsLabs/watermill/components/metrics"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/errgroup"

	"github.com/foyerhq/foyer/internal/orderstream"
)

// Config tunes the order worker.
type Config struct {
	// Consumer names this worker in the consumer group. It must be stable
	// across restarts, or the messages it had pending wait for a claim.
	Consumer string
	// ClaimIdle is how long a message may sit unacknowledged with a consumer
	// before another claims it. Defaults to 30s.
	ClaimIdle time.Duration
	// Partitions is how many partitions of each stream the worker reads at
	// least; it reads up to the highest count any gateway announced
	// (orderstream.Announce) if that is more, and the legacy streams.
	Partitions orderstream.Partitions
	// Registerer, when not nil, takes the worker's metrics: Watermill's
	// router, the orders' outcomes, Postgres's times, the poison topic and
	// the streams' lag (orderstream.StreamGauges).
	Registerer prometheus.Registerer
	// PartitionsPoll is how often the worker looks for a higher count
	// announced while it runs (a gateway started with more partitions).
	// Defaults to 5s: what a message to a new partition may wait.
	PartitionsPoll time.Duration
}

// Worker consumes confirmed reservations and writes orders, and settles
// their payments.
type Worker struct {
	router    *message.Router
	sub       message.Subscriber
	subClient redis.UniversalClient
	rdb       redis.UniversalClient
	writer    *OrderWriter
	settler   *PaymentSettler
	cfg       Config
	log       *slog.Logger
}

// New builds the worker's Watermill router: a subscriber in
// orderstream.ConsumerGroup, retries with backoff, then the poison topic.
// Its consumers, one per partition of each stream, are added by Run.
// The subscriber gets a client of its own, subClient, because it closes it
// when the router stops, and its blocking reads should not take connections
// from anyone else's pool.
func New(rdb, subClient redis.UniversalClient, writer *OrderWriter, settler *PaymentSettler, cfg Config, log *slog.Logger) (*Worker, error) {
	if cfg.ClaimIdle == 0 {
		cfg.ClaimIdle = 30 * time.Second
	}
	if cfg.PartitionsPoll == 0 {
		cfg.PartitionsPoll = 5 * time.Second
	}
	wlog := watermill.NewSlogLogger(log)
	sub, err := orderstream.NewSubscriber(subClient, cfg.Consumer, cfg.ClaimIdle, log)
	if err != nil {
		return nil, err
	}
	pub, err := orderstream.NewPublisher(rdb, log)
	if err != nil {
		return nil, err
	}
	router, err := message.NewRouter(message.RouterConfig{}, wlog)
	if err != nil {
		return nil, fmt.Errorf("order router: %w", err)
	}
	var m *metrics
	if cfg.Registerer != nil {
		if m, err = newMetrics(cfg.Registerer); err != nil {
			return nil, fmt.Errorf("worker metrics: %w", err)
		}
		writer.metrics, settler.metrics = m, m
		pub = countingPublisher{Publisher: pub, published: m.poisoned}
		wmmetrics.NewPrometheusMetricsBuilder(cfg.Registerer, "foyer", "worker").AddPrometheusRouterMetrics(router)
		if err := cfg.Registerer.Register(orderstream.NewStreamGauges(rdb)); err != nil {
			return nil, fmt.Errorf("stream metrics: %w", err)
		}
	}
	poison, err := middleware.PoisonQueue(pub, orderstream.PoisonTopic)
	if err != nil {
		return nil, fmt.Errorf("poison queue: %w", err)
	}
	router.AddMiddleware(
		poison,
		// A transient failure (Postgres restarting, a lost connection) is
		// waited out: the confirmation stays unacknowledged in its stream,
		// and parking it on the poison topic after a few seconds would turn a
		// database restart into orders nobody writes. Only a failure no retry
		// can fix, or one that lasts longer than an outage should, goes there.
		middleware.Retry{
			MaxRetries: math.MaxInt32, InitialInterval: 100 * time.Millisecond, Multiplier: 2,
			MaxInterval: 5 * time.Second, MaxElapsedTime: RetryFor, Logger: wlog,
			ShouldRetry: func(p middleware.RetryParams) bool { return !isPermanent(p.Err) },
		}.Middleware,
		middleware.Recoverer,
	)
	return &Worker{router: router, sub: sub, subClient: subClient, rdb: rdb, writer: writer, settler: settler,
		cfg: cfg, log: log}, nil
}

// RetryFor is how long a message that keeps failing for a passing reason is
// retried before it goes to the poison topic.
const RetryFor = 15 * time.Minute

// Run consumes every partition until ctx ends, then stops the router,
// letting handlers finish. Meanwhile it settles the orders whose payment is
// late, and follows the partition count gateways announce. It returns once
// all have ended: nothing of the worker runs on after it. It returns an
// error if the consumers stop on their own (Redis gone as they subscribe):
// a worker that consumes nothing must exit for its supervisor to see.
func (w *Worker) Run(ctx context.Context) error {
	consumed := w.partitionsToRead(ctx, 0)
	w.addConsumers(0, consumed, true)
	g, gctx := errgroup.WithContext(ctx)
	// The router stops only after followPartitions, which adds consumers to
	// it while it runs, has returned: never while one is being added.
	routerCtx, stopRouter := context.WithCancel(context.WithoutCancel(ctx))
	defer stopRouter()
	g.Go(func() error {
		w.settler.runSweeper(gctx)
		return nil
	})
	g.Go(func() error {
		if err := w.router.Run(routerCtx); err != nil && ctx.Err() == nil {
			return fmt.Errorf("order router: %w", err)
		}
		if gctx.Err() == nil {
			return errConsumersStopped
		}
		return nil
	})
	g.Go(func() error {
		defer stopRouter()
		select {
		case <-w.router.Running():
		case <-gctx.Done():
			return nil
		}
		w.followPartitions(gctx, routerCtx, consumed)
		return nil
	})
	return g.Wait()
}

// errConsumersStopped means every consumer of the router stopped while the
// worker was to run.
var errConsumersStopped = errors.New("order router: every consumer stopped")

// Running is closed once the worker consumes.
func (w *Worker) Running() chan struct{} { return w.router.Running() }
