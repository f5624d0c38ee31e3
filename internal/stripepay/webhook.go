package stripepay

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/stripe/stripe-go/v82"
	"github.com/stripe/stripe-go/v82/webhook"

	"github.com/foyerhq/foyer/checkout"
	"github.com/foyerhq/foyer/internal/orderstream"
)

// SignatureHeader carries Stripe's webhook signature.
const SignatureHeader = "Stripe-Signature"

// ErrBadPayload means a webhook whose signature is good but whose body is
// not an event Stripe would send.
var ErrBadPayload = errors.New("stripe webhook payload invalid")

// Webhooks verifies Stripe's webhooks and reads the payment results they
// carry.
type Webhooks struct {
	// Secret is the endpoint's signing secret (whsec_...). Required.
	Secret string
	// Tolerance is how old a signed timestamp may be. Defaults to 0:
	// checkout.WebhookTolerance, the same as Foyer's own payment webhook
	// (and Stripe library's default, 5 minutes).
	Tolerance time.Duration
}

// Event is what a verified webhook says: its id and type, and, when it is
// about the payment of one of Foyer's orders, that payment's result.
type Event struct {
	ID   string
	Type string
	// Result is the payment result to settle; nil for an event Foyer has no
	// use for (another type, or a PaymentIntent Foyer did not create: the
	// account's other payments send theirs to the same endpoint).
	Result *orderstream.PaymentResult
	// Ignored says why Result is nil.
	Ignored string
}

// Verify checks a webhook's signature and timestamp with Stripe's library,
// then reads it. A signature that does not match is checkout.ErrBadSignature,
// a timestamp past the tolerance checkout.ErrWebhookExpired: the errors of
// Foyer's own payment webhook, with the same answers.
func (w *Webhooks) Verify(body []byte, headers http.Header) (Event, error) {
	tolerance := w.Tolerance
	if tolerance == 0 {
		tolerance = checkout.WebhookTolerance
	}
	// The API version is not checked: Foyer reads an event's id and type
	// and a PaymentIntent's id, status and metadata, which every version
	// since search came out shapes alike, and an account's webhook endpoint
	// may be pinned to any version.
	ev, err := webhook.ConstructEventWithOptions(body, headers.Get(SignatureHeader), w.Secret,
		webhook.ConstructEventOptions{Tolerance: tolerance, IgnoreAPIVersionMismatch: true})
	switch {
	case errors.Is(err, webhook.ErrTooOld):
		return Event{}, fmt.Errorf("stripe webhook: %w", checkout.ErrWebhookExpired)
	case errors.Is(err, webhook.ErrNotSigned), errors.Is(err, webhook.ErrInvalidHeader),
		errors.Is(err, webhook.ErrNoValidSignature):
		return Event{}, fmt.Errorf("stripe webhook: %w", checkout.ErrBadSignature)
	case err != nil:
		return Event{}, fmt.Errorf("%w: %v", ErrBadPayload, err)
	}
	out := Event{ID: ev.ID, Type: string(ev.Type)}
	if ev.Type == stripe.EventTypePaymentIntentPaymentFailed {
		out.Ignored = attemptFailed
		return out, nil
	}
	status, ok := outcomes[ev.Type]
	if !ok {
		out.Ignored = "event type not handled"
		return out, nil
	}
	if ev.Data == nil || ev.Data.Raw == nil {
		return Event{}, fmt.Errorf("%w: event %s has no object", ErrBadPayload, ev.ID)
	}
	var pi stripe.PaymentIntent
	if err := pi.UnmarshalJSON(ev.Data.Raw); err != nil {
		return Event{}, fmt.Errorf("%w: event %s: %v", ErrBadPayload, ev.ID, err)
	}
	orderID, err := strconv.ParseInt(pi.Metadata[metaOrder], 10, 64)
	if err != nil || orderID <= 0 || pi.Metadata[metaSale] == "" || pi.Metadata[metaReservation] == "" {
		out.Ignored = "payment intent " + pi.ID + " is not a Foyer order's"
		return out, nil
	}
	out.Result = &orderstream.PaymentResult{OrderID: orderID, SaleID: pi.Metadata[metaSale],
		ReservationID: pi.Metadata[metaReservation], Status: status, PaymentRef: pi.ID}
	return out, nil
}

// outcomes are the events Foyer settles orders by: a PaymentIntent that
// succeeded pays its order; one cancelled (by the sweeper when the order's
// payment timed out, or by hand in Stripe's dashboard) cancels it, and its
// unit goes back. A payment that succeeds after its order was cancelled is
// a late success: the order stays cancelled, and the settler refunds the
// PaymentIntent the event names (worker.LateRefunder, docs/payments.md).
var outcomes = map[stripe.EventType]string{
	stripe.EventTypePaymentIntentSucceeded: checkout.PaymentPaid,
	stripe.EventTypePaymentIntentCanceled:  checkout.PaymentFailed,
}

// attemptFailed is why payment_intent.payment_failed settles nothing. The
// shopper pays on Foyer's page with Stripe's Payment Element, which shows a
// declined card at once; the PaymentIntent goes back to
// requires_payment_method and the shopper may try another card on it. So
// a failed attempt is not the order's end: the order stays pending_payment
// until FOYER_PAYMENT_TIMEOUT, when the sweeper cancels the PaymentIntent
// at Stripe, then the order, and its unit goes back.
const attemptFailed = "a failed attempt: the shopper may pay again until the order's payment times out"
