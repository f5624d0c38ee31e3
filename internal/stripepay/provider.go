// Package stripepay takes payment for orders through Stripe: a PaymentIntent
// per order, its state asked for before an order is cancelled for want of an
// answer, its webhooks verified and turned into the payment results the
// order workers settle.
//
// It promises that an order is charged at most once however often it is
// asked (the reservation id is Stripe's idempotency key), that every
// PaymentIntent carries the order, sale and reservation it pays for in its
// metadata, and that a webhook is believed only when Stripe's signature and
// timestamp check pass. docs/payments.md tells the flow.
package stripepay

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/stripe/stripe-go/v82"

	"github.com/foyerhq/foyer/checkout"
)

// The metadata keys a PaymentIntent of Foyer carries; the webhook finds its
// order by them, and the status query searches by order_id.
const (
	metaOrder       = "order_id"
	metaSale        = "sale_id"
	metaReservation = "reservation_id"
	metaTransaction = "transaction_id"
)

// maxIntentsPerOrder bounds the PaymentIntents read for one order: Foyer
// makes one, and a search that answered more would be someone's mistake,
// not a reason to page for ever.
const maxIntentsPerOrder = 20

// ErrNoPayment means Stripe has no PaymentIntent for an order.
var ErrNoPayment = errors.New("no Stripe payment for the order")

// Config configures a Provider.
type Config struct {
	// SecretKey is the account's secret API key (sk_live_... or sk_test_...).
	// Required.
	SecretKey string
	// APIBase is Stripe's API address. Defaults to "": Stripe's own
	// (https://api.stripe.com); tests point it at stripe-mock.
	APIBase string
	// HTTPClient sends the requests. Defaults to nil: a client with a
	// 30-second timeout. Tests put a recorder in its Transport.
	HTTPClient *http.Client
}

// Provider is the Stripe payment provider of the order workers: it
// implements worker.PaymentProvider. It holds no state of its own, so any
// number of workers may share an account.
type Provider struct {
	sc *stripe.Client
}

// New returns a provider on the account of cfg.SecretKey.
func New(cfg Config) (*Provider, error) {
	if cfg.SecretKey == "" {
		return nil, errors.New("stripe provider: no secret key")
	}
	httpClient := cfg.HTTPClient
	if httpClient == nil {
		httpClient = &http.Client{Timeout: 30 * time.Second}
	}
	// The library's own log is off: every error it meets is returned,
	// wrapped, to a caller that logs it with the order it concerns.
	bc := &stripe.BackendConfig{HTTPClient: httpClient, LeveledLogger: &stripe.LeveledLogger{Level: stripe.LevelNull}}
	if cfg.APIBase != "" {
		bc.URL = stripe.String(strings.TrimRight(cfg.APIBase, "/"))
	}
	backends := &stripe.Backends{
		API:         stripe.GetBackendWithConfig(stripe.APIBackend, bc),
		Connect:     stripe.GetBackendWithConfig(stripe.ConnectBackend, bc),
		Uploads:     stripe.GetBackendWithConfig(stripe.UploadsBackend, bc),
		MeterEvents: stripe.GetBackendWithConfig(stripe.MeterEventsBackend, bc),
	}
	return &Provider{sc: stripe.NewClient(cfg.SecretKey, stripe.WithBackends(backends))}, nil
}

// Charge creates the order's PaymentIntent: the amount in the sale's
// currency (lower-case, as Stripe wants it), the order in its metadata, the
// reservation id as idempotency key. A redelivered order asks again with the
// same key and Stripe answers the PaymentIntent it made the first time,
// within its 24-hour window; past it the order is no longer pending (its
// payment timed out long before), and the worker charges pending orders
// only. It returns the PaymentIntent's id, which the worker keeps as the
// order's payment_ref for Status, and its client secret, with which the
// shopper pays it on Foyer's page (Stripe's Payment Element); the outcome
// comes back through the webhook. The secret is never logged nor stored:
// a redelivered order gets it again from Stripe, with the same
// PaymentIntent.
func (p *Provider) Charge(ctx context.Context, c checkout.Charge) (checkout.Payment, error) {
	meta := map[string]string{
		metaOrder:       strconv.FormatInt(c.OrderID, 10),
		metaSale:        c.SaleID,
		metaReservation: c.ReservationID,
	}
	if c.TransactionID != "" {
		meta[metaTransaction] = c.TransactionID
	}
	params := &stripe.PaymentIntentCreateParams{
		Amount: stripe.Int64(c.AmountCents),
		// Cards only (the Payment Element offers Apple Pay and Google Pay
		// with them): they succeed or fail within the payment timeout. A
		// method the account may enable that settles in days (SEPA debit,
		// say) stays processing past it: its order would be cancelled, its
		// unit sold again, and the payment refunded when it lands.
		PaymentMethodTypes: []*string{stripe.String("card")},
		Description:        stripe.String(fmt.Sprintf("Foyer order %d (sale %s)", c.OrderID, c.SaleID)),
	}
	if c.Currency != "" { // none: Stripe refuses the request, as it must
		params.Currency = stripe.String(strings.ToLower(c.Currency))
	}
	params.Metadata = meta
	params.SetIdempotencyKey(c.ReservationID)
	pi, err := p.sc.V1PaymentIntents.Create(ctx, params)
	if err != nil {
		if refused(err) {
			err = fmt.Errorf("%w: %w", checkout.ErrChargeRefused, err)
		}
		return checkout.Payment{}, fmt.Errorf("create the Stripe payment of order %d: %w", c.OrderID, err)
	}
	return checkout.Payment{Ref: pi.ID, ClientSecret: pi.ClientSecret}, nil
}

// refused reports whether Stripe refused a request for what it asks (400
// invalid, 402 declined, 404 unknown), which asking again cannot change. A
// bad key (401), a conflict (409), a rate limit (429), Stripe's own failure
// (5xx) or no answer may pass, and are retried.
func refused(err error) bool {
	var se *stripe.Error
	if !errors.As(err, &se) {
		return false
	}
	switch se.HTTPStatusCode {
	case http.StatusBadRequest, http.StatusPaymentRequired, http.StatusNotFound:
		return true
	}
	return false
}

// Status says what became of an order's payment at Stripe. With the
// PaymentIntent's id (ref, the order's payment_ref) it retrieves that
// PaymentIntent, which Stripe answers as it stands now. Without one (an
// order charged before refs were kept), or when Stripe does not know the
// id, it finds the order's PaymentIntents by their metadata, through
// Stripe's search, which may lag a write by up to a minute (the settler
// asks only after the payment timeout, minutes later); several for one
// order (made by hand, say) answer paid if any succeeded. None:
// PaymentUnknown, which the settler does not take for an answer until the
// order is twice its timeout late.
func (p *Provider) Status(ctx context.Context, orderID int64, ref string) (string, error) {
	if ref != "" {
		pi, err := p.sc.V1PaymentIntents.Retrieve(ctx, ref, nil)
		if err == nil {
			return statusOf(pi.Status), nil
		}
		if !refused(err) {
			return "", fmt.Errorf("read Stripe payment %s of order %d: %w", ref, orderID, err)
		}
		// Stripe does not know the id (another account's, or a mistake):
		// the order's metadata may still find its payment.
	}
	intents, err := p.intents(ctx, orderID)
	if err != nil {
		return "", err
	}
	if len(intents) == 0 {
		return checkout.PaymentUnknown, nil
	}
	status := checkout.PaymentFailed
	for _, pi := range intents {
		switch s := statusOf(pi.Status); s {
		case checkout.PaymentPaid:
			return s, nil
		case checkout.PaymentPending:
			status = s
		}
	}
	return status, nil
}

// statusOf maps a PaymentIntent's status to a payment outcome. Only
// succeeded is paid and only canceled is failed for good: a PaymentIntent
// whose attempt failed goes back to requires_payment_method, where the
// shopper may still pay, so it is pending, as is every state on the way.
func statusOf(s stripe.PaymentIntentStatus) string {
	switch s {
	case stripe.PaymentIntentStatusSucceeded:
		return checkout.PaymentPaid
	case stripe.PaymentIntentStatusCanceled:
		return checkout.PaymentFailed
	case stripe.PaymentIntentStatusProcessing, stripe.PaymentIntentStatusRequiresAction,
		stripe.PaymentIntentStatusRequiresCapture, stripe.PaymentIntentStatusRequiresConfirmation,
		stripe.PaymentIntentStatusRequiresPaymentMethod:
		return checkout.PaymentPending
	}
	return checkout.PaymentUnknown
}

// Refund gives back the money of an order paid at Stripe after Foyer
// cancelled it (its unit went back to the sale): every succeeded
// PaymentIntent of the order is refunded in full (RefundPayment). It returns
// ErrNoPayment when the order has no succeeded payment. The settler refunds
// by the PaymentIntent its event named instead; this finds them by the
// order, for an operator's repair (reconciliation) where no event is at hand.
func (p *Provider) Refund(ctx context.Context, orderID int64) error {
	intents, err := p.intents(ctx, orderID)
	if err != nil {
		return err
	}
	refunded := 0
	for _, pi := range intents {
		if pi.Status != stripe.PaymentIntentStatusSucceeded {
			continue
		}
		if err := p.RefundPayment(ctx, pi.ID, orderID); err != nil {
			return err
		}
		refunded++
	}
	if refunded == 0 {
		return fmt.Errorf("refund order %d: %w", orderID, ErrNoPayment)
	}
	return nil
}

// RefundPayment refunds one PaymentIntent in full, with the PaymentIntent's
// id in the idempotency key, so that asking twice refunds once; one refunded
// already is done. orderID (0: none) goes in the refund's metadata. A
// PaymentIntent Stripe will not refund (not succeeded, not the account's)
// is checkout.ErrRefundRefused. The settler calls it for a payment that
// succeeded after its order was cancelled (worker.LateRefunder), with the
// PaymentIntent id Stripe's signed event named.
func (p *Provider) RefundPayment(ctx context.Context, intentID string, orderID int64) error {
	params := &stripe.RefundCreateParams{PaymentIntent: stripe.String(intentID)}
	if orderID > 0 {
		params.Metadata = map[string]string{metaOrder: strconv.FormatInt(orderID, 10)}
	}
	params.SetIdempotencyKey("refund-" + intentID)
	_, err := p.sc.V1Refunds.Create(ctx, params)
	var se *stripe.Error
	switch {
	case errors.As(err, &se) && se.Code == stripe.ErrorCodeChargeAlreadyRefunded:
		return nil // asked again past the idempotency key's 24 hours: done already
	case refused(err):
		err = fmt.Errorf("%w: %w", checkout.ErrRefundRefused, err)
	}
	if err != nil {
		return fmt.Errorf("refund Stripe payment %s of order %d: %w", intentID, orderID, err)
	}
	return nil
}

// CancelPayment cancels the PaymentIntent ref of an order the settler is
// about to cancel for want of an answer, so that the shopper can no longer
// pay for a unit given back to the sale, and answers what the PaymentIntent
// is now: checkout.PaymentFailed once cancelled (or cancelled already);
// checkout.PaymentPaid when it succeeded meanwhile, which Stripe will not
// cancel: the order must be paid, not cancelled; checkout.PaymentPending
// when Stripe cannot cancel it yet (processing); checkout.PaymentUnknown
// when Stripe does not know it. The idempotency key is the PaymentIntent's,
// so asking twice cancels once (worker.PaymentCanceller).
func (p *Provider) CancelPayment(ctx context.Context, ref string, orderID int64) (string, error) {
	params := &stripe.PaymentIntentCancelParams{}
	params.SetIdempotencyKey("cancel-" + ref)
	_, err := p.sc.V1PaymentIntents.Cancel(ctx, ref, params)
	if err == nil {
		return checkout.PaymentFailed, nil
	}
	var se *stripe.Error
	if !errors.As(err, &se) || !refused(err) {
		return "", fmt.Errorf("cancel Stripe payment %s of order %d: %w", ref, orderID, err)
	}
	if status := cancelRefusal(se); status != "" {
		return status, nil
	}
	pi, err := p.sc.V1PaymentIntents.Retrieve(ctx, ref, nil)
	if err != nil {
		return "", fmt.Errorf("read Stripe payment %s of order %d after its cancel was refused: %w", ref, orderID, err)
	}
	return statusOf(pi.Status), nil
}

// cancelRefusal reads Stripe's refusal to cancel a PaymentIntent: one
// Stripe does not know is unknown; one in a state that cannot be cancelled
// (payment_intent_unexpected_state) is in that state, which the error
// carries. "" when it does not say: the PaymentIntent is read again.
func cancelRefusal(se *stripe.Error) string {
	if se.HTTPStatusCode == http.StatusNotFound {
		return checkout.PaymentUnknown
	}
	if pi := se.PaymentIntent; pi != nil && pi.Status != "" {
		return statusOf(pi.Status)
	}
	return ""
}

// Close does nothing: the provider has no goroutine nor connection of its
// own. It is there for the worker, which closes its provider when it stops.
func (p *Provider) Close() {}

// intents finds the PaymentIntents of an order by their metadata.
func (p *Provider) intents(ctx context.Context, orderID int64) ([]*stripe.PaymentIntent, error) {
	params := &stripe.PaymentIntentSearchParams{}
	params.Query = fmt.Sprintf("metadata['%s']:'%d'", metaOrder, orderID)
	var out []*stripe.PaymentIntent
	for pi, err := range p.sc.V1PaymentIntents.Search(ctx, params) {
		if err != nil {
			return nil, fmt.Errorf("find the Stripe payments of order %d: %w", orderID, err)
		}
		out = append(out, pi)
		if len(out) == maxIntentsPerOrder {
			break
		}
	}
	return out, nil
}
