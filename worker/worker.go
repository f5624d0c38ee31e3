package worker

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
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
}

// Worker consumes confirmed reservations and writes orders, and settles
// their payments.
type Worker struct {
	router  *message.Router
	settler *PaymentSettler
}

// New builds the worker's Watermill router: a subscriber in
// orderstream.ConsumerGroup, retries with backoff, then the poison topic.
// The subscriber gets a client of its own, subClient, because it closes it
// when the router stops, and its blocking reads should not take connections
// from anyone else's pool.
func New(rdb, subClient redis.UniversalClient, writer *OrderWriter, settler *PaymentSettler, cfg Config, log *slog.Logger) (*Worker, error) {
	if cfg.ClaimIdle == 0 {
		cfg.ClaimIdle = 30 * time.Second
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
	router.AddConsumerHandler("write-orders", orderstream.OrdersTopic, sub, writer.Handle)
	router.AddConsumerHandler("settle-payments", orderstream.PaymentsTopic, sub, settler.Handle)
	return &Worker{router: router, settler: settler}, nil
}

// RetryFor is how long a message that keeps failing for a passing reason is
// retried before it goes to the poison topic.
const RetryFor = 15 * time.Minute

// Run consumes until ctx ends, then stops the router, letting handlers finish.
// Meanwhile it settles the orders whose payment is late. It returns once
// both have ended: nothing of the worker runs on after it.
func (w *Worker) Run(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		w.settler.runSweeper(ctx)
		return nil
	})
	g.Go(func() error {
		if err := w.router.Run(ctx); err != nil {
			return fmt.Errorf("order router: %w", err)
		}
		return nil
	})
	return g.Wait()
}

// Running is closed once the worker consumes.
func (w *Worker) Running() chan struct{} { return w.router.Running() }
