package app_test

import (
	"strings"
	"testing"
	"time"

	"github.com/foyerhq/foyer/internal/app"
)

// TestPaymentTimeoutIsReadWithinItsBoundsAndRefusedOutside: a timeout of 0
// kept the payment secrets in Redis with no expiry (their TTL is twice it),
// and swept every order at once; one of days held units for nobody.
func TestPaymentTimeoutIsReadWithinItsBoundsAndRefusedOutside(t *testing.T) {
	for v, want := range map[string]time.Duration{"1s": time.Second, "10m": 10 * time.Minute, "24h": 24 * time.Hour} {
		if cfg, err := app.LoadConfig(map[string]string{"FOYER_PAYMENT_TIMEOUT": v}); err != nil || cfg.PaymentTimeout != want {
			t.Errorf("payment timeout %s read as %v (%v)", v, cfg.PaymentTimeout, err)
		}
	}
	for _, v := range []string{"0s", "-1s", "999ms", "25h"} {
		if _, err := app.LoadConfig(map[string]string{"FOYER_PAYMENT_TIMEOUT": v}); err == nil ||
			!strings.Contains(err.Error(), "FOYER_PAYMENT_TIMEOUT must be from 1s to 24h") {
			t.Errorf("payment timeout %s: %v, want it refused naming FOYER_PAYMENT_TIMEOUT", v, err)
		}
	}
}
