package app_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	exampleshop "github.com/foyerhq/foyer/examples/shop"
	"github.com/foyerhq/foyer/internal/wire"
)

// TestTheExampleShopsCustomerQueuesWithItsIdentityTokenAndItsCheckoutVerifiesTheReservation
// runs the example shop against a running Foyer, as far as the drop page
// and the checkout page go: the shop's identity token opens a customer's
// session (offered as a subprotocol, as the drop page does), the customer is
// admitted to the shop's checkout URL, and the shop verifies the token there
// with Foyer's JWKS.
func TestTheExampleShopsCustomerQueuesWithItsIdentityTokenAndItsCheckoutVerifiesTheReservation(t *testing.T) {
	sys := startNodes(t, 1, withIdentitySecret())
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s, err := exampleshop.New(ctx, exampleshop.Config{FoyerURL: sys.URL, ShopKey: "fk_000000000000_unused",
		IdentitySecret: testIdentitySecret, WebhookSecret: "whsec_unused"})
	if err != nil {
		t.Fatal(err)
	}
	shopSrv := httptest.NewServer(s)
	t.Cleanup(shopSrv.Close)
	saleID := sys.createSale(t, map[string]any{"sku": "EX-1", "name": "Example shop's drop", "stock": 2,
		"outflow_per_second": 100, "identity": "required", "checkout": "shop", "checkout_url": shopSrv.URL + "/checkout"})

	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	if resp, err := browser.PostForm(shopSrv.URL+"/login", url.Values{"customer_id": {"cust-1"}}); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("sign in at the shop: %v", err)
	}
	resp, err := browser.Get(shopSrv.URL + "/identity-token")
	if err != nil {
		t.Fatal(err)
	}
	var idTok struct{ Token string }
	json.NewDecoder(resp.Body).Decode(&idTok)
	resp.Body.Close()

	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(sys.URL, "http")+"/v1/sales/"+saleID+"/ws?session=new&join=1",
		&websocket.DialOptions{Subprotocols: []string{wire.Subprotocol, "identity." + idTok.Token}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.CloseNow() })
	welcome, err := readRaw(t, ctx, ws, "welcome")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(welcome.You.ShopperID, "c_") {
		t.Errorf("the shop's identity token made shopper %q, want a customer (c_...)", welcome.You.ShopperID)
	}
	admitted, err := readRaw(t, ctx, ws, "admitted")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(admitted.CheckoutURL, shopSrv.URL+"/checkout?") {
		t.Fatalf("admitted to %q, want the shop's checkout", admitted.CheckoutURL)
	}
	page, err := browser.Get(admitted.CheckoutURL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(page.Body)
	page.Body.Close()
	if page.StatusCode != http.StatusOK || !strings.Contains(string(body), "/checkout/pay") || !strings.Contains(string(body), saleID) {
		t.Errorf("the shop's checkout refused Foyer's token: %d %s", page.StatusCode, body)
	}
	// The same link for another sale is refused.
	other := strings.Replace(admitted.CheckoutURL, "foyer_sale="+saleID, "foyer_sale=s_other", 1)
	page, err = browser.Get(other)
	if err != nil {
		t.Fatal(err)
	}
	page.Body.Close()
	if page.StatusCode != http.StatusForbidden {
		t.Errorf("the checkout with another sale's id: %d, want 403", page.StatusCode)
	}
}
