package app_test

import (
	"strings"
	"testing"
	"time"

	"github.com/foyerhq/foyer/internal/app"
)

// FOYER_WEBHOOK_POLL is read with its default, and refused outside its
// bounds (10ms to 10s), naming the variable: a poll of an hour would leave
// retries and new endpoints waiting that long.
func TestWebhookPollIsReadWithinItsBoundsAndRefusedOutsideNamingTheVariable(t *testing.T) {
	cfg, err := app.LoadConfig(map[string]string{})
	if err != nil || cfg.WebhookPoll != 500*time.Millisecond {
		t.Fatalf("default poll %v (%v), want 500ms", cfg.WebhookPoll, err)
	}
	for v, want := range map[string]time.Duration{"10ms": 10 * time.Millisecond, "10s": 10 * time.Second} {
		if cfg, err := app.LoadConfig(map[string]string{"FOYER_WEBHOOK_POLL": v}); err != nil || cfg.WebhookPoll != want {
			t.Errorf("poll %s read as %v (%v)", v, cfg.WebhookPoll, err)
		}
	}
	for _, v := range []string{"9ms", "11s", "1h", "0s", "-1s"} {
		if _, err := app.LoadConfig(map[string]string{"FOYER_WEBHOOK_POLL": v}); err == nil ||
			!strings.Contains(err.Error(), "FOYER_WEBHOOK_POLL must be from 10ms to 10s") {
			t.Errorf("poll %s: %v, want it refused naming FOYER_WEBHOOK_POLL", v, err)
		}
	}
}
