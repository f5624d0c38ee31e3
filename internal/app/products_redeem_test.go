package app_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/foyerhq/foyer/internal/shopperclient"
)

// An event checked out by the shop: the shop's redeem names the product it
// sold, refused as Foyer's checkout refuses (no product, an unknown one, one
// sold out; the hold kept each time), and each order is written paid with
// its product.
func TestTheShopRedeemsTheProductsItSoldOfAnEvent(t *testing.T) {
	sys := startNodes(t, 1, map[string]string{"FOYER_PAYMENT_OUTCOME": "never"})
	body := eventBody(time.Second)
	body["checkout"], body["checkout_url"] = "shop", "https://shop.example/checkout"
	saleID := sys.createSale(t, body)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	client := shopperclient.New(sys.URL)
	admitted := make([]shopperclient.Message, 3)
	for i := range admitted {
		conn, m, err := admittedOnce(ctx, client, saleID)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.CloseNow()
		if m.Checkout != "shop" {
			t.Fatalf("admitted %s, want the shop's checkout", m.Raw)
		}
		admitted[i] = m
	}
	key := sys.createShopKey(t, "shop backend", "redeem")
	redeem := func(i int, product, idem string) (int, redeemAnswer) {
		b := map[string]string{"sale_id": saleID, "token": admitted[i].Token, "order_ref": fmt.Sprintf("SO-%d", i)}
		if product != "" {
			b["product"] = product
		}
		status, ans, _ := sys.shopPost(t, redeemPath(admitted[i].ReservationID), key.Key, idem, b)
		return status, ans
	}
	for _, c := range []struct {
		product, idem string
		status        int
		code          string
	}{
		{"", "a-1", http.StatusUnprocessableEntity, "product_required"},
		{"NOPE", "a-2", http.StatusNotFound, "product_unknown"},
		{"TEE\nRED", "a-3", http.StatusBadRequest, "bad_request"},
	} {
		if status, ans := redeem(0, c.product, c.idem); status != c.status || ans.Error.Code != c.code {
			t.Errorf("redeem naming %q: %d %s, want %d %s", c.product, status, ans.Error.Code, c.status, c.code)
		}
	}
	want := []string{"TEE-RED", "CAP", "TEE-BLUE"}
	for i, sku := range want {
		if i == 2 {
			// The one cap is gone: refused, and the hold stands for another.
			if status, ans := redeem(2, "CAP", "c-1"); status != http.StatusConflict || ans.Error.Code != "product_sold_out" {
				t.Errorf("a second cap: %d %s, want 409 product_sold_out", status, ans.Error.Code)
			}
		}
		status, ans := redeem(i, sku, fmt.Sprintf("ok-%d", i))
		if status != http.StatusOK || ans.Status != "redeemed" || ans.Product != sku {
			t.Fatalf("redeem %d of %s: %d %+v", i, sku, status, ans)
		}
	}

	deadline := time.Now().Add(30 * time.Second)
	for sys.countOrders(t, saleID) < len(want) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond) // the worker writes them asynchronously; no event reaches the test
	}
	var rows []struct {
		SKU    string `db:"sku"`
		Status string `db:"status"`
		Ref    string `db:"shop_order_ref"`
		Price  int64  `db:"price_cents"`
	}
	if err := sys.DB.Select(&rows, `SELECT sku, status, shop_order_ref, price_cents FROM orders WHERE sale_id = $1
		ORDER BY shop_order_ref`, saleID); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(rows); got != "[{TEE-RED paid SO-0 1500} {CAP paid SO-1 900} {TEE-BLUE paid SO-2 1500}]" {
		t.Errorf("orders %s, want each paid with its product and price", got)
	}
	if n := sys.count(t, `SELECT sum(sold) FROM sale_products WHERE sale_id = $1`, saleID); n != 3 {
		t.Errorf("the products sold %d in Postgres, want 3", n)
	}
	sys.reconciled(t, ctx, saleID)
}
