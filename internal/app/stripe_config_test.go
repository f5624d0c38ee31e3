package app_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/foyerhq/foyer/internal/app"
	"github.com/foyerhq/foyer/internal/keyring"
)

// TestStripeIsRefusedAtStartWithoutItsSecretsNamingTheVariable: with
// FOYER_PAYMENT_PROVIDER=stripe the worker needs the secret key and the
// gateway the webhook secret, each refused before anything connects (the
// Redis and Postgres addresses lead nowhere), by name.
func TestStripeIsRefusedAtStartWithoutItsSecretsNamingTheVariable(t *testing.T) {
	tests := []struct {
		name    string
		set     map[string]string
		gateway bool // the gateway refuses it; otherwise the worker does
		wantErr error
		want    string
	}{
		{"no secret key", map[string]string{"FOYER_STRIPE_SECRET_KEY": ""}, false, app.ErrNoStripeSecret,
			"FOYER_STRIPE_SECRET_KEY is not set"},
		{"a publishable key for a secret one", map[string]string{"FOYER_STRIPE_SECRET_KEY": "pk_test_abc"}, false, app.ErrWeakSecret,
			"FOYER_STRIPE_SECRET_KEY does not start with sk_"},
		{"no webhook secret", map[string]string{"FOYER_STRIPE_WEBHOOK_SECRET": ""}, true, app.ErrNoStripeSecret,
			"FOYER_STRIPE_WEBHOOK_SECRET is not set"},
		{"a webhook secret that is not Stripe's", map[string]string{"FOYER_STRIPE_WEBHOOK_SECRET": "s3cr3t"}, true, app.ErrWeakSecret,
			"FOYER_STRIPE_WEBHOOK_SECRET does not start with whsec_"},
		{"no publishable key", map[string]string{"FOYER_STRIPE_PUBLISHABLE_KEY": ""}, true, app.ErrNoStripeSecret,
			"FOYER_STRIPE_PUBLISHABLE_KEY is not set"},
		// The gateway hands the publishable key to every paying shopper's
		// page: a secret key put there by mistake would be given away.
		{"a secret key for the publishable one", map[string]string{"FOYER_STRIPE_PUBLISHABLE_KEY": testStripeKey}, true, app.ErrWeakSecret,
			"FOYER_STRIPE_PUBLISHABLE_KEY does not start with pk_"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			environ := map[string]string{
				"FOYER_REDIS_URL":              "redis://127.0.0.1:1/0",
				"FOYER_DATABASE_URL":           "postgres://nobody@127.0.0.1:1/none?sslmode=disable",
				"FOYER_ADMIN_TOKEN":            testAdminToken,
				"FOYER_SIGNING_KEYS":           keyring.NewSeed(),
				"FOYER_PAYMENT_WEBHOOK_SECRET": testWebhookSecret,
				"FOYER_LOG_LEVEL":              "error",
				"FOYER_PAYMENT_PROVIDER":       "stripe",
				"FOYER_STRIPE_SECRET_KEY":      testStripeKey,
				"FOYER_STRIPE_WEBHOOK_SECRET":  testStripeWebhookSecret,
				"FOYER_STRIPE_PUBLISHABLE_KEY": testStripePublishableKey,
			}
			for k, v := range tt.set {
				environ[k] = v
			}
			cfg, err := app.LoadConfig(environ)
			if err != nil {
				t.Fatal(err)
			}
			if tt.gateway {
				_, err = app.NewGateway(t.Context(), cfg, app.NewLogger(cfg))
			} else {
				_, err = app.NewWorker(t.Context(), cfg, app.NewLogger(cfg))
			}
			if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("%v; want %v saying %q", err, tt.wantErr, tt.want)
			}
		})
	}
}

func TestAnUnknownPaymentProviderIsRefused(t *testing.T) {
	_, err := app.LoadConfig(map[string]string{"FOYER_PAYMENT_PROVIDER": "paypal"})
	if err == nil || !strings.Contains(err.Error(), "FOYER_PAYMENT_PROVIDER must be test or stripe") {
		t.Fatalf("LoadConfig = %v, want FOYER_PAYMENT_PROVIDER refused", err)
	}
}
