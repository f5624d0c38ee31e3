package checkout

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/foyerhq/foyer/internal/clock"
	"github.com/foyerhq/foyer/internal/orderstream"
)

// ErrProviderClosed means a charge came after the provider was closed.
var ErrProviderClosed = errors.New("payment provider closed")

// TestProvider is the built-in payment provider for trying Foyer out and
// for tests: it answers every charge through the real signed webhook, with
// the outcome it is configured for, as a real provider would: it retries a
// webhook the gateway did not accept, and it answers Status with what it
// decided.
//
// Its decision is its configured Outcome, the same for every order (tests
// may decide order by order instead: Decide), so
// Status answers it for any order it is asked about, in any process: a
// second worker's provider, or one restarted, says paid for an order the
// first charged, and the sweeper never cancels a paid order because the
// worker that charged it is not the one asking. That is simpler and as
// sound as keeping decisions in Redis: the settler asks only about orders
// in Postgres, and every one of those is charged (a failed charge retries
// its message), so there is no order it could be wrong about.
//
// Results are sent in batches (testbatches.go): those that fall due within
// batchWindow of each other go in one signed webhook of up to
// checkout.MaxWebhookResults, so a busy sale costs the gateway one request
// per batch instead of one per order. One goroutine gathers them and at
// most maxDeliveries post them; an order is remembered only until its
// batch is accepted or given up (so a redelivered charge is not sent twice
// at once). With Ledger set, every charge is also written in its ledger
// (ledger.go), one entry per reservation, so that reconciliation can list
// and refund its payments as a real provider's. Close ends the deliveries:
// a webhook not yet accepted is sent once more, within closeSendLimit, and
// one still refused is left to the sweeper, which Status answers.
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
	// Decide, when set, decides each order's payment instead of Outcome,
	// for tests that need a sale whose payments differ: "succeed", "fail",
	// "never", or "lost" (paid, and the webhook never sent, as when a
	// provider's webhook goes astray). The provider then remembers what it
	// decided for each order it charged, as a real provider does, and
	// Status answers that, and unknown for an order it never charged; a
	// redelivered charge keeps the first decision. That memory grows with
	// the orders charged, which is why only tests set Decide. Defaults to
	// nil: Outcome for every order, remembered by nobody.
	Decide func(Charge) string
	// Ledger keeps every charge, for Payments and RefundPayment (ledger.go).
	// Defaults to false: memory then does not grow with the orders charged,
	// which a long run (the bench) needs; tests of reconciliation set it.
	Ledger bool

	mu         sync.Mutex
	decided    map[int64]string            // order -> status, when Decide is set
	delivering map[int64]bool              // orders whose webhook is waiting or being sent
	due        []dueResult                 // results waiting for their Delay, soonest first
	queued     chan struct{}               // a result joined due (room for one: a nudge)
	ledger     map[string]*ProviderPayment // every payment taken, by id (ledger.go)
	order      []string                    // the ledger's ids, in the order taken
	ctx        context.Context             // ends at Close: stops every delivery
	stop       context.CancelFunc
	closed     bool
	running    sync.WaitGroup
}

// The backoff between two attempts of a webhook: from retryFirst, doubled
// each time up to retryMost, each wait drawn at random below it (full
// jitter), so the webhooks refused during one outage do not all come back
// at once.
const (
	retryFirst = 100 * time.Millisecond
	retryMost  = 10 * time.Second
)

// closeSendLimit bounds the last attempt Close gives a webhook not yet
// accepted: short, so a worker stopping is not held up by a gateway that is
// down; what it cannot send, the sweeper recovers through Status.
const closeSendLimit = time.Second

// TestPaymentRef is the payment ref the test provider gives the payment of
// a reservation's order: the id of its ledger entry (ledger.go), made of the
// reservation's, so that a redelivered order gets the same one, as a real
// provider's idempotent charge does.
func TestPaymentRef(reservationID string) string { return "tp_" + reservationID }

// Charge decides the payment of an order, and answers it later from a
// goroutine the provider owns. It returns the payment's ref (TestPaymentRef)
// and no client secret: the shopper's page has nothing to pay with it.
func (p *TestProvider) Charge(_ context.Context, c Charge) (Payment, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return Payment{}, fmt.Errorf("charge order %d: %w", c.OrderID, ErrProviderClosed)
	}
	payment := Payment{Ref: TestPaymentRef(c.ReservationID)}
	if p.delivering == nil {
		p.delivering = map[int64]bool{}
		p.queued = make(chan struct{}, 1)
		// The deliveries outlive the charge's request; Close ends them.
		p.ctx, p.stop = context.WithCancel(context.Background())
		p.running.Add(1)
		go p.sendDue()
	}
	status, send := p.decision(), true
	if p.Decide != nil {
		status, send = p.decideOnce(c)
	}
	if p.Ledger {
		p.record(c, status)
	}
	if !send || status == PaymentPending || p.delivering[c.OrderID] {
		return payment, nil // never answered; or a redelivered order, being answered
	}
	p.delivering[c.OrderID] = true
	p.due = append(p.due, dueResult{
		result: orderstream.PaymentResult{OrderID: c.OrderID, SaleID: c.SaleID, ReservationID: c.ReservationID, Status: status},
		at:     time.Now().Add(p.delay()),
	})
	select {
	case p.queued <- struct{}{}:
	default: // the sender has been nudged already
	}
	return payment, nil
}

// decideOnce asks Decide about a charge the first time its payment is seen,
// and remembers the answer; send is false for a payment whose webhook is
// lost. p.mu is held.
func (p *TestProvider) decideOnce(c Charge) (status string, send bool) {
	if p.decided == nil {
		p.decided = map[int64]string{}
	}
	outcome := p.Decide(c)
	status, ok := p.decided[c.OrderID]
	if !ok {
		status = outcomeStatus(outcome)
		p.decided[c.OrderID] = status
	}
	return status, outcome != "lost"
}

// outcomeStatus is the payment status an outcome decides: paid unless it
// says otherwise.
func outcomeStatus(outcome string) string {
	switch outcome {
	case "fail":
		return PaymentFailed
	case "never":
		return PaymentPending
	}
	return PaymentPaid
}

// decision is what the provider decides of every charge: paid unless its
// Outcome says otherwise.
func (p *TestProvider) decision() string { return outcomeStatus(p.Outcome) }

// Delivering reports how many orders the provider holds in memory: those
// whose webhook waits for its Delay or is still being sent.
func (p *TestProvider) Delivering() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.delivering)
}

// delay is Delay, or its default.
func (p *TestProvider) delay() time.Duration {
	if p.Delay == 0 {
		return 200 * time.Millisecond
	}
	return p.Delay
}

// deliver posts a batch of results, and again until the gateway accepts it
// or RetryFor has passed: a refused batch is sent again whole. When ctx
// ends first (Close), it is sent once more within closeSendLimit instead of
// being dropped: it was charged, and its charge is not redelivered.
func (p *TestProvider) deliver(ctx context.Context, batch []orderstream.PaymentResult) {
	defer p.forget(batch)
	body, err := encodeWebhook(batch)
	if err != nil {
		p.Log.Error("test payment webhook not encoded; the sweeper will ask for its status", "orders", len(batch), "err", err)
		return
	}
	retryFor := p.RetryFor
	if retryFor == 0 {
		retryFor = 10 * time.Minute
	}
	giveUp := time.Now().Add(retryFor)
	backoff := retryFirst
	for attempt := 1; ; attempt++ {
		err := p.post(ctx, body)
		if err == nil {
			return
		}
		if ctx.Err() != nil {
			p.lastAttempt(batch, body)
			return
		}
		pause := rand.N(backoff) + time.Millisecond
		if time.Now().Add(pause).After(giveUp) {
			p.Log.Warn("test payment webhook given up; the sweeper will ask for its status",
				"first_order", batch[0].OrderID, "orders", len(batch), "attempts", attempt, "err", err)
			return
		}
		p.Log.Warn("test payment webhook refused; retrying", "first_order", batch[0].OrderID, "orders", len(batch),
			"attempt", attempt, "err", err)
		if clock.Sleep(ctx, pause) != nil {
			p.lastAttempt(batch, body)
			return
		}
		backoff = min(backoff*2, retryMost)
	}
}

// lastAttempt sends a webhook once as the provider closes. Its context is
// its own, since the provider's has ended; closeSendLimit bounds it.
func (p *TestProvider) lastAttempt(batch []orderstream.PaymentResult, body []byte) {
	ctx, cancel := context.WithTimeout(context.Background(), closeSendLimit)
	defer cancel()
	if err := p.post(ctx, body); err != nil {
		p.Log.Warn("test payment webhook not sent before closing; the sweeper will ask for its status",
			"first_order", batch[0].OrderID, "orders", len(batch), "err", err)
	}
}

// forget lets a batch's orders go once their webhook is accepted or given
// up: a charge of one of them redelivered later is answered again.
func (p *TestProvider) forget(batch []orderstream.PaymentResult) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, r := range batch {
		delete(p.delivering, r.OrderID)
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
// or not its webhook got through: its configured outcome (PaymentPaid,
// PaymentFailed or PaymentPending), the same in every process, so a
// provider that did not charge the order itself (another worker's, or one
// restarted) answers as the one that did. With Decide set, it answers what
// it decided for the order, and PaymentUnknown for one it never charged.
// The ref changes nothing: the provider's payments are one per order.
func (p *TestProvider) Status(_ context.Context, orderID int64, _ string) (string, error) {
	if p.Decide == nil {
		return p.decision(), nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if status, ok := p.decided[orderID]; ok {
		return status, nil
	}
	return PaymentUnknown, nil
}

// Close ends the deliveries still under way, and those still waiting for
// their Delay: each not yet accepted is sent once more, within
// closeSendLimit, then left to the sweeper. It waits for their goroutines. Charges after it fail. It may be called more than once.
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
