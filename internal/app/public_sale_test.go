package app_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/foyerhq/foyer/internal/wire"
)

// publicSaleFields are all a shopper's page learns of a sale, from
// GET /v1/sales/{id} and the welcome message. The operator's settings —
// identity mode, checkout mode and URL, limits, outflow, SKU — are not among
// them: the shopper is told where to check out in the admitted message, with
// the token, and needs no more before.
var publicSaleFields = []string{"currency", "ends_at", "id", "message", "name", "prequeue_at", "price_cents",
	"seed", "seed_hash", "starts_at", "state", "stock", "waiting"}

func TestThePublicViewOfASaleShowsNoneOfTheOperatorsSettings(t *testing.T) {
	sys := startSystem(t)
	checkoutURL := "https://shop.example/private-checkout?campaign=vip"
	saleID := sys.createSale(t, map[string]any{"sku": "PUB-SKU-7", "name": "Public view", "stock": 3,
		"outflow_per_second": 7.5, "identity": "optional", "checkout": "shop", "checkout_url": checkoutURL,
		"per_shopper_limit": 2, "reservation_ttl_seconds": 300})

	resp, err := http.Get(sys.URL + "/v1/sales/" + saleID)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET sale: %d %s", resp.StatusCode, raw)
	}
	assertPublicSale(t, "GET /v1/sales/{id}", raw, checkoutURL)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(sys.URL, "http")+"/v1/sales/"+saleID+"/ws?session=new",
		&websocket.DialOptions{Subprotocols: []string{wire.Subprotocol}})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	_, msg, err := ws.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var welcome struct {
		Type string          `json:"type"`
		Sale json.RawMessage `json:"sale"`
	}
	if err := json.Unmarshal(msg, &welcome); err != nil || welcome.Type != "welcome" {
		t.Fatalf("first message %s (%v), want welcome", msg, err)
	}
	assertPublicSale(t, "the welcome message", welcome.Sale, checkoutURL)
}

// assertPublicSale fails unless the sale's JSON has only the public fields
// and names nothing of the operator's settings.
func assertPublicSale(t *testing.T, where string, raw []byte, checkoutURL string) {
	t.Helper()
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		t.Fatalf("%s: %s: %v", where, raw, err)
	}
	for name := range fields {
		if !slices.Contains(publicSaleFields, name) {
			t.Errorf("%s shows %q, which is not one of the public fields", where, name)
		}
	}
	for _, secret := range []string{"shop.example", "campaign", "optional", "PUB-SKU-7", "identity", "checkout"} {
		if strings.Contains(string(raw), secret) {
			t.Errorf("%s names %q: %s", where, secret, raw)
		}
	}
}
