package app_test

import (
	"strings"
	"testing"
	"time"

	"github.com/foyerhq/foyer/internal/app"
)

// FOYER_WEBHOOK_RETENTION is read with its default, and refused outside
// its documented bounds (a day to a year).
func TestWebhookRetentionIsReadWithinItsBoundsAndRefusedOutside(t *testing.T) {
	cfg, err := app.LoadConfig(map[string]string{})
	if err != nil || cfg.WebhookRetention != 30*24*time.Hour {
		t.Fatalf("default retention %v (%v), want 720h", cfg.WebhookRetention, err)
	}
	if cfg, err := app.LoadConfig(map[string]string{"FOYER_WEBHOOK_RETENTION": "168h"}); err != nil || cfg.WebhookRetention != 7*24*time.Hour {
		t.Errorf("retention 168h read as %v (%v)", cfg.WebhookRetention, err)
	}
	for _, v := range []string{"1h", "9000h", "0s"} {
		if _, err := app.LoadConfig(map[string]string{"FOYER_WEBHOOK_RETENTION": v}); err == nil ||
			!strings.Contains(err.Error(), "FOYER_WEBHOOK_RETENTION") {
			t.Errorf("retention %s: %v, want it refused", v, err)
		}
	}
}
