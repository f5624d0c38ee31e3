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
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	exampleshop "github.com/foyerhq/foyer/examples/shop"
	"github.com/foyerhq/foyer/internal/shopperclient"
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
	// The shop's server first, for the sale's checkout URL; the shop is
	// built once the sale it sells is made.
	var shop atomic.Pointer[exampleshop.Shop]
	shopSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { shop.Load().ServeHTTP(w, r) }))
	t.Cleanup(shopSrv.Close)
	saleID := sys.createSale(t, map[string]any{"sku": "EX-1", "name": "Example shop's drop", "stock": 2,
		"outflow_per_second": 100, "identity": "required", "checkout": "shop", "checkout_url": shopSrv.URL + "/checkout"})
	s, err := exampleshop.New(ctx, exampleshop.Config{FoyerURL: sys.URL, ShopKey: "fk_000000000000_unused",
		IdentitySecret: testIdentitySecret, WebhookSecret: "whsec_unused", SaleIDs: []string{saleID}})
	if err != nil {
		t.Fatal(err)
	}
	shop.Store(s)

	customer := newShopCustomer(t, shopSrv.URL, "cust-1")
	welcome, admitted := customer.queue(t, ctx, sys.URL, saleID)
	if !strings.HasPrefix(welcome.You.ShopperID, "c_") {
		t.Errorf("the shop's identity token made shopper %q, want a customer (c_...)", welcome.You.ShopperID)
	}
	if !strings.HasPrefix(admitted.CheckoutURL, shopSrv.URL+"/checkout?") {
		t.Fatalf("admitted to %q, want the shop's checkout", admitted.CheckoutURL)
	}
	if status, body := customer.get(t, admitted.CheckoutURL); status != http.StatusOK ||
		!strings.Contains(body, "/checkout/pay") || !strings.Contains(body, saleID) {
		t.Errorf("the shop's checkout refused Foyer's token: %d %s", status, body)
	}
	// The same link for another sale is refused.
	other := strings.Replace(admitted.CheckoutURL, "foyer_sale="+saleID, "foyer_sale=s_other", 1)
	if status, _ := customer.get(t, other); status != http.StatusForbidden {
		t.Errorf("the checkout with another sale's id: %d, want 403", status)
	}
}

// shopCustomer is a customer's browser at the example shop: a cookie jar
// signed in at the shop, which queues at Foyer as the shop's drop page does.
type shopCustomer struct {
	shopURL string
	browser *http.Client
}

// newShopCustomer signs customerID in at the shop.
func newShopCustomer(t *testing.T, shopURL, customerID string) *shopCustomer {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &shopCustomer{shopURL: shopURL, browser: &http.Client{Jar: jar}}
	resp, err := c.browser.PostForm(shopURL+"/login", url.Values{"customer_id": {customerID}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("sign in %s at the shop: %d", customerID, resp.StatusCode)
	}
	return c
}

// get fetches a page as this customer.
func (c *shopCustomer) get(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := c.browser.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// queue takes a fresh identity token from the shop and joins the sale at
// Foyer with it, offered as a subprotocol as the drop page does, and waits
// to be admitted.
func (c *shopCustomer) queue(t *testing.T, ctx context.Context, foyerURL, saleID string) (welcome, admitted shopperclient.Message) {
	t.Helper()
	status, body := c.get(t, c.shopURL+"/identity-token")
	var tok struct{ Token string }
	if err := json.Unmarshal([]byte(body), &tok); status != http.StatusOK || err != nil || tok.Token == "" {
		t.Fatalf("identity token from the shop: %d %s", status, body)
	}
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(foyerURL, "http")+"/v1/sales/"+saleID+"/ws?session=new&join=1",
		&websocket.DialOptions{Subprotocols: []string{wire.Subprotocol, "identity." + tok.Token}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.CloseNow() })
	if welcome, err = readRaw(t, ctx, ws, "welcome"); err != nil {
		t.Fatal(err)
	}
	if admitted, err = readRaw(t, ctx, ws, "admitted"); err != nil {
		t.Fatal(err)
	}
	return welcome, admitted
}
