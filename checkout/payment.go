package checkout

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/foyerhq/foyer/internal/orderstream"
)

// Payment outcomes a provider reports. A webhook carries paid or failed;
// asked for an order's status (TestProvider.Status), a provider may also
// say pending (not decided yet) or unknown (it never heard of the order).
const (
	PaymentPaid    = "paid"
	PaymentFailed  = "failed"
	PaymentPending = "pending"
	PaymentUnknown = "unknown"
)

// SignatureHeader carries a webhook's signature, Stripe-style:
// "t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">". The time is
// signed with the body, so a captured webhook cannot be replayed once
// WebhookTolerance has passed. Several v1 entries may be sent (a secret
// being rotated); one that matches is enough.
const SignatureHeader = "X-Foyer-Signature"

// WebhookTolerance is how far a webhook's signed time may be from the
// gateway's clock, either way: long enough for a provider's clock and its
// retries' queueing, short enough that a captured body soon goes stale.
const WebhookTolerance = 5 * time.Minute

// Errors of webhooks.
var (
	// ErrBadSignature means a webhook's signature does not match its body.
	ErrBadSignature = errors.New("webhook signature invalid")
	// ErrWebhookExpired means a webhook's signature matches, but for a time
	// further than WebhookTolerance from now: a replay, or a clock far off.
	ErrWebhookExpired = errors.New("webhook timestamp outside the tolerance")
)

// ErrChargeRefused means a payment provider refused a charge as invalid (an
// amount or currency it does not take, say): asking again is refused
// again. The order worker leaves such an order to the payment timeout,
// which gives its unit back, instead of retrying its message for ever.
var ErrChargeRefused = errors.New("payment provider refused the charge")

// ErrRefundRefused means a payment provider will not refund the payment
// named (it did not succeed, or it is not the provider's): asking again
// changes nothing, so the settler sets the result aside for an operator.
var ErrRefundRefused = errors.New("payment provider refused the refund")

// Charge asks for payment of one order.
type Charge struct {
	OrderID       int64  `json:"order_id"`
	SaleID        string `json:"sale_id"`
	ReservationID string `json:"reservation_id"`
	AmountCents   int64  `json:"amount_cents"`
	Currency      string `json:"currency"`
	// TransactionID is the order's transaction id, for the provider's
	// records (Stripe's metadata); empty when the confirmation had none.
	TransactionID string `json:"transaction_id,omitempty"`
}

// Payment is what a provider answers a charge with.
type Payment struct {
	// Ref is the provider's own id of the payment (a Stripe PaymentIntent's),
	// which the worker keeps with the order as its payment_ref; "": none.
	Ref string
	// ClientSecret lets the shopper's page pay it (a Stripe PaymentIntent's
	// client_secret, for the Payment Element); "": the page has nothing to
	// do (the test provider pays by itself). It goes to the shopper's tabs
	// only: never logged, never stored in Postgres, as Stripe asks.
	ClientSecret string
}

// Sign returns the signature header value of a webhook body sent at.
func Sign(secret, body []byte, at time.Time) string {
	t := strconv.FormatInt(at.Unix(), 10)
	return "t=" + t + ",v1=" + hex.EncodeToString(mac(secret, t, body))
}

func mac(secret []byte, t string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(t))
	m.Write([]byte("."))
	m.Write(body)
	return m.Sum(nil)
}

// MaxWebhookResults bounds the results of one webhook: a batch of more is
// refused whole. 256 is the test provider's batch (testprovider.go): enough
// that a busy sale's payments cost the gateway a request per few hundred
// orders, small enough that one body stays well under a megabyte and one
// message to the order workers stays one transaction of theirs.
const MaxWebhookResults = 256

// MaxWebhookResultBytes is the room a body gives each result: ids of a few
// dozen bytes each, a status, and the JSON around them, several times over.
// The gateway's cap on a webhook's body is MaxWebhookResults of them.
const MaxWebhookResultBytes = 1 << 10

// ErrBadPaymentResult means a webhook's signature holds but its body is not
// a payment result, or a batch of them: not JSON, a status other than paid
// or failed, an id missing, an empty batch or one of more than
// MaxWebhookResults. Nothing of it is handed on.
var ErrBadPaymentResult = errors.New("not a payment result")

// webhookBody is either body a webhook may carry: one result alone (what
// every provider sent before batches, and what a shop's own provider may
// still send), or {"results": [...]}.
type webhookBody struct {
	Results *[]orderstream.PaymentResult `json:"results"`
	orderstream.PaymentResult
}

// VerifyWebhook verifies a webhook that carries one result alone
// (VerifyWebhookResults); a batch, even of one, is refused.
func VerifyWebhook(secret, body []byte, header string, now time.Time) (orderstream.PaymentResult, error) {
	results, err := VerifyWebhookResults(secret, body, header, now)
	if err != nil {
		return orderstream.PaymentResult{}, err
	}
	if len(results) != 1 {
		return orderstream.PaymentResult{}, fmt.Errorf("%w: a batch of %d where one result was expected", ErrBadPaymentResult, len(results))
	}
	return results[0], nil
}

// VerifyWebhookResults checks a webhook's signature in constant time, then
// that it was signed within WebhookTolerance of now, and decodes its
// results: one result alone, or a batch of 1 to MaxWebhookResults. The
// signature covers the whole body. A batch with any result that is not one
// is refused whole (ErrBadPaymentResult, naming the first bad one), so a
// provider retries it whole and nothing of it is applied twice or half.
func VerifyWebhookResults(secret, body []byte, header string, now time.Time) ([]orderstream.PaymentResult, error) {
	if err := verifySignature(secret, body, header, now); err != nil {
		return nil, err
	}
	var b webhookBody
	if err := json.Unmarshal(body, &b); err != nil {
		return nil, fmt.Errorf("%w: decode webhook: %v", ErrBadPaymentResult, err)
	}
	results := []orderstream.PaymentResult{b.PaymentResult}
	if b.Results != nil {
		if b.PaymentResult != (orderstream.PaymentResult{}) {
			return nil, fmt.Errorf("%w: a body with both a result and a batch of results", ErrBadPaymentResult)
		}
		results = *b.Results
	}
	if len(results) == 0 || len(results) > MaxWebhookResults {
		return nil, fmt.Errorf("%w: a batch of %d results, want 1 to %d", ErrBadPaymentResult, len(results), MaxWebhookResults)
	}
	for i := range results {
		r := &results[i]
		if r.OrderID <= 0 || r.SaleID == "" || r.ReservationID == "" || (r.Status != PaymentPaid && r.Status != PaymentFailed) {
			return nil, fmt.Errorf("%w: result %d of %d, for order %d: sale %q, reservation %q, status %q",
				ErrBadPaymentResult, i+1, len(results), r.OrderID, r.SaleID, r.ReservationID, r.Status)
		}
		// A payment to refund is named only by a provider's own webhook,
		// whose signature is the provider's: never by this one.
		r.PaymentRef = ""
	}
	return results, nil
}

// verifySignature checks header against body in constant time, and its
// signed time against now.
func verifySignature(secret, body []byte, header string, now time.Time) error {
	t, signed, ok := parseSignature(header)
	if len(secret) == 0 || !ok {
		return ErrBadSignature
	}
	want := mac(secret, t, body)
	matched := false
	for _, sig := range signed {
		matched = hmac.Equal(sig, want) || matched
	}
	if !matched {
		return ErrBadSignature
	}
	unix, _ := strconv.ParseInt(t, 10, 64) // parseSignature checked it
	if skew := now.Sub(time.Unix(unix, 0)); skew > WebhookTolerance || skew < -WebhookTolerance {
		return fmt.Errorf("%w: signed %s from now", ErrWebhookExpired, -skew.Round(time.Second))
	}
	return nil
}

// parseSignature reads "t=<unix>,v1=<hex>[,v1=<hex>...]"; unknown entries
// (a future scheme) are skipped.
func parseSignature(header string) (t string, signed [][]byte, ok bool) {
	for part := range strings.SplitSeq(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			if _, err := strconv.ParseInt(v, 10, 64); err != nil || t != "" {
				return "", nil, false
			}
			t = v
		case "v1":
			if sig, err := hex.DecodeString(v); err == nil {
				signed = append(signed, sig)
			}
		}
	}
	return t, signed, t != "" && len(signed) > 0
}
