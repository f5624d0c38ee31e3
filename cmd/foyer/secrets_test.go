package main

import (
	"io"
	"strings"
	"testing"

	"github.com/foyerhq/foyer/internal/keyring"
)

// TestServeRefusesAOneLetterAdminTokenSayingWhy runs `foyer serve` as main
// does with FOYER_ADMIN_TOKEN=a, which used to start a gateway whose admin
// API a guess would open. It must stop before connecting anywhere, and say
// which variable is wrong and how.
func TestServeRefusesAOneLetterAdminTokenSayingWhy(t *testing.T) {
	environ := map[string]string{
		"FOYER_REDIS_URL":              "redis://127.0.0.1:1/0",
		"FOYER_DATABASE_URL":           "postgres://nobody@127.0.0.1:1/none?sslmode=disable",
		"FOYER_ADMIN_TOKEN":            "a",
		"FOYER_SIGNING_KEYS":           keyring.NewSeed(),
		"FOYER_PAYMENT_WEBHOOK_SECRET": testWebhookSecret,
		"FOYER_LOG_LEVEL":              "error",
	}
	err := realMain(t.Context(), []string{"serve"}, environ, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "FOYER_ADMIN_TOKEN is 1 characters long; it must be at least 24") {
		t.Fatalf("foyer serve with FOYER_ADMIN_TOKEN=a: %v", err)
	}
}
