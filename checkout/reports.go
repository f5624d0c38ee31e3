package checkout

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/foyerhq/foyer/internal/orderstream"
)

// PaymentReports hands payment results from the webhook to the order
// workers through Watermill, on each sale's partition of
// orderstream.Payments. While Run runs,
// the results that arrive within Window go out as one message, so that a worker settles them in one
// transaction: settled one by one, a busy sale's payments were settled at a
// few hundred a second and "paid" lagged the checkout by seconds.
type PaymentReports struct {
	publisher  messagePublisher
	partitions orderstream.Partitions // which partition a sale's results go to
	// Window is how long the first result of a batch waits for more.
	// Defaults to 5ms: nothing next to a payment provider's own delay.
	Window time.Duration
	// Max bounds a batch. Defaults to 500, as for confirmations.
	Max     int
	in      chan pendingReport
	started chan struct{} // closed when Run begins
	stopped chan struct{} // closed when Run has ended
}

type pendingReport struct {
	r    orderstream.PaymentResult
	done chan error
}

// messagePublisher is the part of a Watermill publisher reports need.
type messagePublisher interface {
	Publish(topic string, messages ...*message.Message) error
}

// NewPaymentReports returns reports published with publisher to each sale's
// partition of partitions, one message each unless Run runs.
func NewPaymentReports(publisher messagePublisher, partitions orderstream.Partitions) *PaymentReports {
	return &PaymentReports{publisher: publisher, partitions: partitions, Window: 5 * time.Millisecond, Max: 500,
		in: make(chan pendingReport), started: make(chan struct{}), stopped: make(chan struct{})}
}

// Report publishes one payment result, and returns once it is published:
// the webhook is answered only then, so a provider whose result was not
// published sends it again. Settling is idempotent, so a result published
// twice is one result.
func (p *PaymentReports) Report(ctx context.Context, r orderstream.PaymentResult) error {
	select {
	case <-p.started:
	default:
		return p.publish([]orderstream.PaymentResult{r})
	}
	done := make(chan error, 1)
	select {
	case p.in <- pendingReport{r, done}:
	case <-p.stopped:
		return p.publish([]orderstream.PaymentResult{r})
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// ReportBatch publishes a webhook's batch of results as one message per
// partition its sales fall in (one, for a batch of one sale), and returns
// once they are published, as Report does. It skips Run's gathering: the
// provider gathered them already, and one message of them is already one
// transaction of the worker that settles them.
func (p *PaymentReports) ReportBatch(_ context.Context, results []orderstream.PaymentResult) error {
	return p.publish(results)
}

// Run gathers results into batches and publishes them until ctx ends; then
// Report publishes each result alone again. Run once.
func (p *PaymentReports) Run(ctx context.Context) error {
	close(p.started)
	defer close(p.stopped)
	for {
		var first pendingReport
		select {
		case <-ctx.Done():
			return nil
		case first = <-p.in:
		}
		batch := gather(p.in, first, p.Window, p.Max)
		results := make([]orderstream.PaymentResult, len(batch))
		for i, r := range batch {
			results[i] = r.r
		}
		err := p.publish(results)
		for _, r := range batch {
			r.done <- err
		}
	}
}

// Running is closed once Run gathers results.
func (p *PaymentReports) Running() <-chan struct{} { return p.started }

// publish sends results, one message per partition their sales fall in
// (orderstream.PaymentResultsMessage says how one result alone is sent).
// An error of any message is the error of all: the webhooks are answered
// with it and sent again, and a result settled twice is settled once.
func (p *PaymentReports) publish(results []orderstream.PaymentResult) error {
	groups := byTopic(results, func(r orderstream.PaymentResult) string {
		return p.partitions.Topic(orderstream.Payments, r.SaleID)
	})
	var errs []error
	for _, g := range groups {
		msg, err := orderstream.PaymentResultsMessage(g.items)
		if err != nil {
			return err
		}
		if err := p.publisher.Publish(g.topic, msg); err != nil {
			errs = append(errs, fmt.Errorf("publish %d payment results to %s: %w", len(g.items), g.topic, err))
		}
	}
	return errors.Join(errs...)
}
