package app_test

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/foyerhq/foyer/internal/app"
	"github.com/foyerhq/foyer/internal/keyring"
)

// TestWeakSecretsAreRefusedAtStartNamingTheVariableAndTheProblem starts a
// gateway and a worker with each bad secret in turn, next to good ones.
// Each used to start: a one-letter admin token, a one-byte webhook secret,
// an all-zero signing seed, and a signing key listed twice (which then
// refused the node's own tokens). Each must be refused before anything
// connects (the Redis and Postgres addresses lead nowhere), with a message
// that says which variable is wrong and how.
func TestWeakSecretsAreRefusedAtStartNamingTheVariableAndTheProblem(t *testing.T) {
	seed := keyring.NewSeed()
	past := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	zeroSeed := base64.StdEncoding.EncodeToString(make([]byte, 32))
	tests := []struct {
		name    string
		set     map[string]string
		worker  bool // the worker must refuse it too
		wantErr error
		want    string
	}{
		{"no admin token", map[string]string{"FOYER_ADMIN_TOKEN": ""}, false, app.ErrNoAdminToken, "FOYER_ADMIN_TOKEN is not set"},
		{"a one-letter admin token", map[string]string{"FOYER_ADMIN_TOKEN": "a"}, false, app.ErrWeakSecret,
			"FOYER_ADMIN_TOKEN is 1 characters long; it must be at least 24"},
		{"the old test admin token", map[string]string{"FOYER_ADMIN_TOKEN": "test-admin-token"}, false, app.ErrWeakSecret,
			"FOYER_ADMIN_TOKEN is 16 characters long"},
		{"an admin token of one letter repeated", map[string]string{"FOYER_ADMIN_TOKEN": strings.Repeat("a", 40)}, false, app.ErrWeakSecret,
			"FOYER_ADMIN_TOKEN has only 1 different characters"},
		{"no webhook secret", map[string]string{"FOYER_PAYMENT_WEBHOOK_SECRET": ""}, true, app.ErrNoWebhookSecret, "FOYER_PAYMENT_WEBHOOK_SECRET is not set"},
		{"a one-byte webhook secret", map[string]string{"FOYER_PAYMENT_WEBHOOK_SECRET": "s"}, true, app.ErrWeakSecret,
			"FOYER_PAYMENT_WEBHOOK_SECRET is 1 bytes long; it must be at least 32"},
		{"a webhook secret of zeros", map[string]string{"FOYER_PAYMENT_WEBHOOK_SECRET": strings.Repeat("0", 64)}, true, app.ErrWeakSecret,
			"FOYER_PAYMENT_WEBHOOK_SECRET has only 1 different characters"},
		{"a short pow secret", map[string]string{"FOYER_POW_SECRET": "short"}, false, app.ErrWeakSecret,
			"FOYER_POW_SECRET is 5 bytes long; it must be at least 16"},
		{"no signing key", map[string]string{"FOYER_SIGNING_KEYS": ""}, false, app.ErrNoSigningKey, "FOYER_SIGNING_KEYS is not set"},
		{"an all-zero signing seed", map[string]string{"FOYER_SIGNING_KEYS": zeroSeed}, false, keyring.ErrBadKey,
			"FOYER_SIGNING_KEYS: key 1: bad signing key: the seed is not random"},
		{"the signing key listed again as retired", map[string]string{"FOYER_SIGNING_KEYS": seed + "," + seed + "@" + past}, false, keyring.ErrBadKey,
			"FOYER_SIGNING_KEYS: key 2: bad signing key: it is key 1 again"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			environ := map[string]string{
				"FOYER_REDIS_URL":              "redis://127.0.0.1:1/0",
				"FOYER_DATABASE_URL":           "postgres://nobody@127.0.0.1:1/none?sslmode=disable",
				"FOYER_ADMIN_TOKEN":            testAdminToken,
				"FOYER_SIGNING_KEYS":           seed,
				"FOYER_PAYMENT_WEBHOOK_SECRET": testWebhookSecret,
				"FOYER_LOG_LEVEL":              "error",
			}
			for k, v := range tt.set {
				environ[k] = v
			}
			cfg, err := app.LoadConfig(environ)
			if err != nil {
				t.Fatal(err)
			}
			log := app.NewLogger(cfg)
			_, err = app.NewGateway(t.Context(), cfg, log)
			if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("gateway: %v; want %v saying %q", err, tt.wantErr, tt.want)
			}
			if !tt.worker {
				return
			}
			_, err = app.NewWorker(t.Context(), cfg, log)
			if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("worker: %v; want %v saying %q", err, tt.wantErr, tt.want)
			}
		})
	}
}
