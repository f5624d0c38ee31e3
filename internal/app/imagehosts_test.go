package app_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/foyerhq/foyer/internal/branding"
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
			err := gatewayStartError(t, map[string]string{"FOYER_IMAGE_HOSTS": bad})
			if !errors.Is(err, branding.ErrBadImageHost) || !strings.Contains(err.Error(), "FOYER_IMAGE_HOSTS") {
				t.Fatalf("gateway with FOYER_IMAGE_HOSTS=%q: %v; want %v naming the variable", bad, err, branding.ErrBadImageHost)
			}
		})
	}
}
