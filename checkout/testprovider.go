package checkout

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"time"
)

// ErrProviderClosed means a charge came after the provider was closed.
var ErrProviderClosed = errors.New("payment provider closed")

// TestProvider is the built-in payment provider for trying Foyer out and
// for tests: it answers every charge through the real signed webhook, with
// the outcome it is configured for, as a real provider would: it retries a
// webhook the gateway did not accept, and it answers Status with what it
// decided. It remembers that only in memory: a worker restarted forgets,
// and says unknown.
//
// Every delivery runs on a goroutine the provider owns: Close stops them
// (a webhook not yet accepted is then not sent) and waits for them.
type TestProvider struct {
	// Outcome is "succeed", "fail" or "never" (the webhook never comes, the
	// payment stays pending, and the order is cancelled when it times out).
	Outcome string
	// WebhookURL is where results are posted: the gateway's /v1/payments/webhook.
	WebhookURL string
	Secret     []byte
	// Delay is how long a payment takes. Defaults to 200ms.
	Delay time.Duration
	// RetryFor bounds how long a webhook the gateway refuses (any answer but
	// 2xx, or none) is sent again, with exponential backoff and jitter from
	// retryFirst to retryMost. Defaults to 10 minutes; the worker sets it to
	// its payment timeout, after which the sweeper asks Status instead.
	RetryFor time.Duration
	Log      *slog.Logger

	mu      sync.Mutex
	decided map[int64]string // order id -> PaymentPaid, PaymentFailed or PaymentPending
	ctx     context.Context  // ends at Close: stops every delivery
	stop    context.CancelFunc
	closed  bool
	running sync.WaitGroup
}

// The backoff between two attempts of a webhook: from retryFirst, doubled
// each time up to retryMost, each wait drawn at random below it (full
// jitter), so the webhooks refused during one outage do not all come back
// at once.
const (
	retryFirst = 100 * time.Millisecond
	retryMost  = 10 * time.Second
)

// Charge decides the payment of an order once, and answers it later from a
// goroutine the provider owns.
func (p *TestProvider) Charge(_ context.Context, c Charge) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return fmt.Errorf("charge order %d: %w", c.OrderID, ErrProviderClosed)
	}
	if p.decided == nil {
		p.decided = map[int64]string{}
		// The deliveries outlive the charge's request; Close ends them.
		p.ctx, p.stop = context.WithCancel(context.Background())
	}
	if _, dup := p.decided[c.OrderID]; dup {
		return nil // a redelivered order is charged once
	}
	status := PaymentPaid
	switch p.Outcome {
	case "never":
		p.decided[c.OrderID] = PaymentPending
		return nil
	case "fail":
		status = PaymentFailed
	}
	p.decided[c.OrderID] = status
	body, err := json.Marshal(PaymentResult{OrderID: c.OrderID, SaleID: c.SaleID, ReservationID: c.ReservationID, Status: status})
	if err != nil {
		return fmt.Errorf("encode payment result of order %d: %w", c.OrderID, err)
	}
	p.running.Add(1)
	go func() {
		defer p.running.Done()
		p.deliver(p.ctx, c.OrderID, body)
	}()
	return nil
}

// deliver posts a result after Delay, and again until the gateway accepts
// it, RetryFor has passed, or ctx ends.
func (p *TestProvider) deliver(ctx context.Context, orderID int64, body []byte) {
	delay := p.Delay
	if delay == 0 {
		delay = 200 * time.Millisecond
	}
	retryFor := p.RetryFor
	if retryFor == 0 {
		retryFor = 10 * time.Minute
	}
	if !wait(ctx, delay) {
		return
	}
	giveUp := time.Now().Add(retryFor)
	backoff := retryFirst
	for attempt := 1; ; attempt++ {
		err := p.post(ctx, body)
		if err == nil {
			return
		}
		if ctx.Err() != nil {
			return
		}
		pause := rand.N(backoff) + time.Millisecond
		if time.Now().Add(pause).After(giveUp) {
			p.Log.Warn("test payment webhook given up; the sweeper will ask for its status", "order", orderID,
				"attempts", attempt, "err", err)
			return
		}
		p.Log.Warn("test payment webhook refused; retrying", "order", orderID, "attempt", attempt, "err", err)
		if !wait(ctx, pause) {
			return
		}
		backoff = min(backoff*2, retryMost)
	}
}

// wait waits d, or less when ctx ends first; it reports whether d passed.
func wait(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func (p *TestProvider) post(ctx context.Context, body []byte) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.WebhookURL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(SignatureHeader, Sign(p.Secret, body, time.Now()))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode >= 300 {
		return fmt.Errorf("webhook answered %s", resp.Status)
	}
	return nil
}

// Status says what the provider decided about an order's payment, whether
// or not its webhook got through: PaymentPaid, PaymentFailed,
// PaymentPending, or PaymentUnknown for an order it was never asked to
// charge (or forgot, restarted).
func (p *TestProvider) Status(_ context.Context, orderID int64) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if s, ok := p.decided[orderID]; ok {
		return s, nil
	}
	return PaymentUnknown, nil
}

// Close stops the deliveries still under way (a webhook not yet accepted is
// not sent) and waits for their goroutines. Charges after it fail. It may be
// called more than once.
func (p *TestProvider) Close() {
	p.mu.Lock()
	p.closed = true
	if p.stop != nil {
		p.stop()
	}
	p.mu.Unlock()
	p.running.Wait()
}

// ValidOutcome reports whether a test provider outcome is known.
func ValidOutcome(o string) bool {
	return slices.Contains([]string{"succeed", "fail", "never"}, o)
}
