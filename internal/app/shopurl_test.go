package app_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/foyerhq/foyer/server"
)

// TestAShopURLThePageCannotLinkToIsRefusedAtStart starts a gateway with
// each FOYER_SHOP_URL a shopper's page must not link to: it is refused
// before anything connects (the Redis and Postgres addresses lead
// nowhere), naming the variable.
func TestAShopURLThePageCannotLinkToIsRefusedAtStart(t *testing.T) {
	for _, bad := range []string{"shop.example", "/shop", "javascript:alert(1)", "ftp://shop.example/", "https://", `https://shop.example/"><script>`} {
		t.Run(bad, func(t *testing.T) {
			err := gatewayStartError(t, map[string]string{"FOYER_SHOP_URL": bad})
			if !errors.Is(err, server.ErrBadShopURL) || !strings.Contains(err.Error(), "FOYER_SHOP_URL") {
				t.Fatalf("gateway with FOYER_SHOP_URL=%q: %v; want %v naming the variable", bad, err, server.ErrBadShopURL)
			}
		})
	}
}
