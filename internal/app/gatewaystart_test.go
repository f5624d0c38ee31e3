package app_test

import (
	"testing"

	"github.com/foyerhq/foyer/internal/app"
	"github.com/foyerhq/foyer/internal/keyring"
)

// gatewayStartError is what starting a gateway with these settings says,
// beside good secrets and Redis and Postgres addresses that lead nowhere:
// a setting the gateway refuses must be refused before anything connects.
func gatewayStartError(t *testing.T, set map[string]string) error {
	t.Helper()
	environ := map[string]string{
		"FOYER_REDIS_URL":              "redis://127.0.0.1:1/0",
		"FOYER_DATABASE_URL":           "postgres://nobody@127.0.0.1:1/none?sslmode=disable",
		"FOYER_ADMIN_TOKEN":            testAdminToken,
		"FOYER_SIGNING_KEYS":           keyring.NewSeed(),
		"FOYER_PAYMENT_WEBHOOK_SECRET": testWebhookSecret,
		"FOYER_LOG_LEVEL":              "error",
	}
	for k, v := range set {
		environ[k] = v
	}
	cfg, err := app.LoadConfig(environ)
	if err != nil {
		t.Fatal(err)
	}
	_, err = app.NewGateway(t.Context(), cfg, app.NewLogger(cfg))
	return err
}
