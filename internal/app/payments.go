package app

import (
	"log/slog"

	"github.com/foyerhq/foyer/checkout"
	"github.com/foyerhq/foyer/internal/stripepay"
	"github.com/foyerhq/foyer/server"
	"github.com/foyerhq/foyer/worker"
)

// paymentProvider is what the order worker charges through; it is closed
// once the consumers have stopped.
type paymentProvider interface {
	worker.PaymentProvider
	Close()
}

// newPaymentProvider builds the provider FOYER_PAYMENT_PROVIDER names: the
// built-in test provider, which posts its results to Foyer's own payment
// webhook, or Stripe, which the shopper pays and whose own webhooks the
// gateway takes (stripeWebhooks).
func newPaymentProvider(cfg Config, log *slog.Logger) (paymentProvider, error) {
	if cfg.PaymentProvider == providerStripe {
		return stripepay.New(stripepay.Config{SecretKey: cfg.StripeSecretKey, APIBase: cfg.StripeAPIBase})
	}
	webhook := cfg.WebhookURL
	if webhook == "" {
		webhook = cfg.publicURL(cfg.HTTPAddr) + "/v1/payments/webhook"
	}
	// A refused webhook is retried until the order's payment times out; then
	// the settler asks the provider instead.
	return &checkout.TestProvider{Outcome: cfg.PaymentOutcome, WebhookURL: webhook,
		Secret: []byte(cfg.WebhookSecret), RetryFor: cfg.PaymentTimeout, Log: log}, nil
}

// stripeWebhooks is the verifier of Stripe's webhooks when Stripe takes the
// money, and nil otherwise, which leaves their route out.
func stripeWebhooks(cfg Config) server.StripeWebhooks {
	if cfg.PaymentProvider != providerStripe {
		return nil
	}
	return &stripepay.Webhooks{Secret: cfg.StripeWebhookSecret}
}
