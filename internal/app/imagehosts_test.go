package app_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/foyerhq/foyer/internal/app"
	"github.com/foyerhq/foyer/internal/branding"
	"github.com/foyerhq/foyer/internal/keyring"
)

// TestAnImageHostThatCouldWidenThePagePolicyIsRefusedAtStart starts a
// gateway with each FOYER_IMAGE_HOSTS that is not a plain host: each goes
// into the pages' Content-Security-Policy, so one could end the directive
// or let in any host. It is refused before anything connects, naming the
// variable.
func TestAnImageHostThatCouldWidenThePagePolicyIsRefusedAtStart(t *testing.T) {
	for _, bad := range []string{"*", "*.shop.example", "https://cdn.shop.example", "cdn.shop.example/img",
		"cdn.shop.example;script-src", "CDN.shop.example", "cdn.shop.example,,img.example"} {
		t.Run(bad, func(t *testing.T) {
			cfg, err := app.LoadConfig(map[string]string{
				"FOYER_REDIS_URL":              "redis://127.0.0.1:1/0",
				"FOYER_DATABASE_URL":           "postgres://nobody@127.0.0.1:1/none?sslmode=disable",
				"FOYER_ADMIN_TOKEN":            testAdminToken,
				"FOYER_SIGNING_KEYS":           keyring.NewSeed(),
				"FOYER_PAYMENT_WEBHOOK_SECRET": testWebhookSecret,
				"FOYER_LOG_LEVEL":              "error",
				"FOYER_IMAGE_HOSTS":            bad,
			})
			if err != nil {
				t.Fatal(err)
			}
			_, err = app.NewGateway(t.Context(), cfg, app.NewLogger(cfg))
			if !errors.Is(err, branding.ErrBadImageHost) || !strings.Contains(err.Error(), "FOYER_IMAGE_HOSTS") {
				t.Fatalf("gateway with FOYER_IMAGE_HOSTS=%q: %v; want %v naming the variable", bad, err, branding.ErrBadImageHost)
			}
		})
	}
}
