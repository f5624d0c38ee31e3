package app_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/foyerhq/foyer/internal/app"
	"github.com/foyerhq/foyer/internal/keyring"
	"github.com/foyerhq/foyer/server"
)

// TestAShopURLThePageCannotLinkToIsRefusedAtStart starts a gateway with
// each FOYER_SHOP_URL a shopper's page must not link to: it is refused
// before anything connects (the Redis and Postgres addresses lead
// nowhere), naming the variable.
func TestAShopURLThePageCannotLinkToIsRefusedAtStart(t *testing.T) {
	for _, bad := range []string{"shop.example", "/shop", "javascript:alert(1)", "ftp://shop.example/", "https://", `https://shop.example/"><script>`} {
		t.Run(bad, func(t *testing.T) {
			cfg, err := app.LoadConfig(map[string]string{
				"FOYER_REDIS_URL":              "redis://127.0.0.1:1/0",
				"FOYER_DATABASE_URL":           "postgres://nobody@127.0.0.1:1/none?sslmode=disable",
				"FOYER_ADMIN_TOKEN":            testAdminToken,
				"FOYER_SIGNING_KEYS":           keyring.NewSeed(),
				"FOYER_PAYMENT_WEBHOOK_SECRET": testWebhookSecret,
				"FOYER_LOG_LEVEL":              "error",
				"FOYER_SHOP_URL":               bad,
			})
			if err != nil {
				t.Fatal(err)
			}
			_, err = app.NewGateway(t.Context(), cfg, app.NewLogger(cfg))
			if !errors.Is(err, server.ErrBadShopURL) || !strings.Contains(err.Error(), "FOYER_SHOP_URL") {
				t.Fatalf("gateway with FOYER_SHOP_URL=%q: %v; want %v naming the variable", bad, err, server.ErrBadShopURL)
			}
		})
	}
}
