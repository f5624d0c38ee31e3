package checkout

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"
)

// PaymentsTopic is the Watermill topic that carries payment results from
// the webhook to the order workers, so the gateway never waits on Postgres.
const PaymentsTopic = "foyer.payments.results"

// Payment outcomes a provider reports.
const (
	PaymentPaid   = "paid"
	PaymentFailed = "failed"
)

// SignatureHeader carries the HMAC-SHA256 of a webhook's body: "sha256=<hex>".
const SignatureHeader = "X-Foyer-Signature"

// ErrBadSignature means a webhook's signature does not match its body.
var ErrBadSignature = errors.New("webhook signature invalid")

// Charge asks for payment of one order.
type Charge struct {
	OrderID       int64  `json:"order_id"`
	SaleID        string `json:"sale_id"`
	ReservationID string `json:"reservation_id"`
	AmountCents   int64  `json:"amount_cents"`
	Currency      string `json:"currency"`
}

// PaymentResult is what a provider's webhook reports about a charge.
type PaymentResult struct {
	OrderID       int64  `json:"order_id"`
	SaleID        string `json:"sale_id"`
	ReservationID string `json:"reservation_id"`
	Status        string `json:"status"` // PaymentPaid or PaymentFailed
}

// Sign returns the signature header value of a webhook body.
func Sign(secret, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// VerifyWebhook checks a webhook's signature in constant time and decodes it.
func VerifyWebhook(secret, body []byte, signature string) (PaymentResult, error) {
	if len(secret) == 0 || !hmac.Equal([]byte(signature), []byte(Sign(secret, body))) {
		return PaymentResult{}, ErrBadSignature
	}
	var r PaymentResult
	if err := json.Unmarshal(body, &r); err != nil {
		return PaymentResult{}, fmt.Errorf("decode webhook: %w", err)
	}
	if r.OrderID <= 0 || r.SaleID == "" || (r.Status != PaymentPaid && r.Status != PaymentFailed) {
		return PaymentResult{}, fmt.Errorf("webhook for order %d: status %q: not a payment result", r.OrderID, r.Status)
	}
	return r, nil
}

// TestProvider is the built-in payment provider for trying Foyer out and
// for tests: it answers every charge through the real signed webhook, with
// the outcome it is configured for.
type TestProvider struct {
	// Outcome is "succeed", "fail" or "never" (the webhook never comes, and
	// the order is cancelled when the payment times out).
	Outcome string
	// WebhookURL is where results are posted: the gateway's /v1/payments/webhook.
	WebhookURL string
	Secret     []byte
	// Delay is how long a payment takes. Defaults to 200ms.
	Delay time.Duration
	Log   *slog.Logger

	charged sync.Map // order id -> struct{}: a charge is answered once
}

// Charge answers the charge later, from a goroutine that owns its lifetime.
func (p *TestProvider) Charge(_ context.Context, c Charge) error {
	if _, dup := p.charged.LoadOrStore(c.OrderID, struct{}{}); dup || p.Outcome == "never" {
		return nil
	}
	status := PaymentPaid
	if p.Outcome == "fail" {
		status = PaymentFailed
	}
	delay := p.Delay
	if delay == 0 {
		delay = 200 * time.Millisecond
	}
	time.AfterFunc(delay, func() {
		body, _ := json.Marshal(PaymentResult{OrderID: c.OrderID, SaleID: c.SaleID, ReservationID: c.ReservationID, Status: status})
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := p.post(ctx, body); err != nil {
			p.charged.Delete(c.OrderID) // the next delivery of the order may charge again
			p.Log.Warn("test payment webhook failed", "order", c.OrderID, "err", err)
		}
	})
	return nil
}

func (p *TestProvider) post(ctx context.Context, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.WebhookURL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(SignatureHeader, Sign(p.Secret, body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		return fmt.Errorf("webhook answered %s", resp.Status)
	}
	return nil
}

// ValidOutcome reports whether a test provider outcome is known.
func ValidOutcome(o string) bool {
	return slices.Contains([]string{"succeed", "fail", "never"}, o)
}
