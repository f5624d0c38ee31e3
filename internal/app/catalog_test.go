package app_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/foyerhq/foyer/internal/shopperclient"
)

// Issue 23, the shop's catalog and discounts: products imported as CSV or
// JSON, picked when a sale is created, and sales priced as a discount off
// the list price, which is what the order is charged.

// importProducts posts an import and returns its status and body.
func (s *system) importProducts(t *testing.T, contentType, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/v1/admin/products", strings.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Authorization", "Bearer "+s.AdminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw)
}

// catalogRows counts the products and the audit rows of imports.
func (s *system) catalogRows(t *testing.T) (products, audits int) {
	t.Helper()
	if err := s.DB.QueryRow(`SELECT (SELECT count(*) FROM products),
		(SELECT count(*) FROM admin_actions WHERE action = 'catalog_import')`).Scan(&products, &audits); err != nil {
		t.Fatal(err)
	}
	return products, audits
}

func TestASaleFromAProductCopiesItAndLaterImportsLeaveTheSaleAlone(t *testing.T) {
	sys := startSystem(t)
	status, body := sys.importProducts(t, "text/csv", "sku,name,list_price_cents,currency,image_url,description\n"+
		"SNK-1,Sneaker,8000,EUR,https://cdn.example/snk.png,Red\nBT-2,Boot,12000,EUR,,\n")
	if status != http.StatusOK || body != `{"created":2,"updated":0}` {
		t.Fatalf("CSV import: %d %s", status, body)
	}
	status, body = sys.importProducts(t, "application/json",
		`{"products":[{"sku":"SNK-1","name":"Sneaker","list_price_cents":8000,"currency":"EUR"},{"sku":"HT-3","name":"Hat","list_price_cents":2500,"currency":"EUR"}]}`)
	if status != http.StatusOK || body != `{"created":1,"updated":1}` {
		t.Fatalf("JSON import: %d %s", status, body)
	}
	var plan struct {
		ID             string `json:"id"`
		SKU            string `json:"sku"`
		Name           string `json:"name"`
		PriceCents     int64  `json:"price_cents"`
		ListPriceCents int64  `json:"list_price_cents"`
		Currency       string `json:"currency"`
	}
	if st := sys.call(t, http.MethodPost, "/v1/admin/sales", sys.AdminToken, map[string]any{
		"product_sku": "SNK-1", "stock": 5, "starts_at": startsIn(time.Hour), "discount": map[string]any{"percent": 25},
	}, &plan); st != http.StatusCreated || plan.SKU != "SNK-1" || plan.Name != "Sneaker" || plan.PriceCents != 6000 ||
		plan.ListPriceCents != 8000 || plan.Currency != "EUR" {
		t.Fatalf("a sale of SNK-1 at 25 %% off: %d %+v", st, plan)
	}
	if status, _ := sys.importProducts(t, "text/csv", "sku,name,list_price_cents,currency\nSNK-1,Renamed,9999,EUR\n"); status != http.StatusOK {
		t.Fatal(status)
	}
	var public struct {
		Name           string `json:"name"`
		PriceCents     int64  `json:"price_cents"`
		ListPriceCents int64  `json:"list_price_cents"`
	}
	if st := sys.call(t, http.MethodGet, "/v1/sales/"+plan.ID, "", nil, &public); st != http.StatusOK ||
		public.Name != "Sneaker" || public.PriceCents != 6000 || public.ListPriceCents != 8000 {
		t.Errorf("the public sale after the product changed: %d %+v", st, public)
	}
	var refusal struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	if st := sys.call(t, http.MethodPost, "/v1/admin/sales", sys.AdminToken, map[string]any{
		"product_sku": "NOPE", "stock": 5}, &refusal); st != http.StatusNotFound || refusal.Error.Code != "product_unknown" {
		t.Errorf("an unknown product: %d %+v", st, refusal)
	}
	if st := sys.call(t, http.MethodPost, "/v1/admin/sales", sys.AdminToken, map[string]any{
		"product_sku": "BT-2", "name": "Other", "stock": 5}, &refusal); st != http.StatusUnprocessableEntity ||
		!strings.Contains(refusal.Error.Message, "product_sku gives the sale") {
		t.Errorf("a product and a name: %d %+v", st, refusal)
	}
}

func TestACatalogImportWithABadRowIsRefusedWholeNamingTheRow(t *testing.T) {
	sys := startSystem(t)
	if status, body := sys.importProducts(t, "text/csv", "sku,name,list_price_cents,currency\nSNK-1,Sneaker,8000,EUR\n"); status != http.StatusOK {
		t.Fatalf("%d %s", status, body)
	}
	cases := []struct{ name, contentType, body, want string }{
		{"a bad price in row 3", "text/csv", "sku,name,list_price_cents,currency\nSNK-1,Changed,1,EUR\nBT-2,Boot,abc,EUR\n", "row 3: list_price_cents"},
		{"an http image in row 2", "application/json", `{"products":[{"sku":"SNK-1","name":"Changed","list_price_cents":1,"currency":"EUR"},{"sku":"B","name":"B","list_price_cents":1,"currency":"EUR","image_url":"http://x.example/b.png"}]}`, "row 2: image_url"},
		{"a sku twice", "text/csv", "sku,name,list_price_cents,currency\nA,A,1,EUR\nA,A,1,EUR\n", `row 3: sku \"A\" is also in row 2`},
		{"an XML body", "application/xml", "<products/>", "Content-Type must be text/csv or application/json"},
	}
	for _, tc := range cases {
		status, body := sys.importProducts(t, tc.contentType, tc.body)
		if status != http.StatusUnprocessableEntity || !strings.Contains(body, `"catalog_import_invalid"`) || !strings.Contains(body, tc.want) {
			t.Errorf("%s: %d %s", tc.name, status, body)
		}
	}
	// Past the body's cap (8 MiB): refused before it is read.
	big := "sku,name,list_price_cents,currency,description\n" + strings.Repeat("A,A,1,EUR,"+strings.Repeat("x", 1000)+"\n", 9000)
	if status, body := sys.importProducts(t, "text/csv", big); status != http.StatusRequestEntityTooLarge {
		t.Errorf("9 MB of CSV: %d %s", status, body)
	}
	var name string
	if err := sys.DB.Get(&name, `SELECT name FROM products WHERE sku = 'SNK-1'`); err != nil || name != "Sneaker" {
		t.Errorf("SNK-1 after refused imports: %q, %v", name, err)
	}
	if products, audits := sys.catalogRows(t); products != 1 || audits != 1 {
		t.Errorf("after refused imports: %d products, %d audit rows", products, audits)
	}
}

func TestBadDiscountsAreRefusedAndChangeNothing(t *testing.T) {
	sys := startSystem(t)
	var before int
	if err := sys.DB.Get(&before, `SELECT count(*) FROM sales`); err != nil {
		t.Fatal(err)
	}
	base := func(discount map[string]any) map[string]any {
		return map[string]any{"sku": "D-1", "name": "Discounted", "list_price_cents": 8000, "stock": 5,
			"starts_at": startsIn(time.Hour), "discount": discount}
	}
	cases := []struct {
		name string
		body map[string]any
		want string
	}{
		{"0 %", base(map[string]any{"percent": 0}), "discount percent must be between 1 and 90"},
		{"91 %", base(map[string]any{"percent": 91}), "discount percent must be between 1 and 90"},
		{"an amount equal to the list price", base(map[string]any{"amount_cents": 8000}), "below list_price_cents"},
		{"an amount above the list price", base(map[string]any{"amount_cents": 9000}), "below list_price_cents"},
		{"both kinds at once", base(map[string]any{"percent": 10, "amount_cents": 100}), "not both"},
		{"a price beside a discount", func() map[string]any {
			b := base(map[string]any{"percent": 10})
			b["price_cents"] = 5000
			return b
		}(), "price_cents is derived"},
		{"a list price without a discount", map[string]any{"sku": "D-1", "name": "D", "price_cents": 100,
			"list_price_cents": 8000, "stock": 5}, "list_price_cents goes with a discount"},
	}
	for _, tc := range cases {
		var refusal struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		st := sys.call(t, http.MethodPost, "/v1/admin/sales", sys.AdminToken, tc.body, &refusal)
		if st != http.StatusUnprocessableEntity || refusal.Error.Code != "invalid_sale" || !strings.Contains(refusal.Error.Message, tc.want) {
			t.Errorf("%s: %d %+v", tc.name, st, refusal)
		}
	}
	var after, audits int
	if err := sys.DB.QueryRow(`SELECT (SELECT count(*) FROM sales), (SELECT count(*) FROM admin_actions)`).Scan(&after, &audits); err != nil {
		t.Fatal(err)
	}
	if after != before || audits != 0 {
		t.Errorf("after refused discounts: %d sales (was %d), %d audit rows", after, before, audits)
	}
}

func TestAnOrderOfADiscountedSaleIsChargedTheSalePrice(t *testing.T) {
	sys := startSystem(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// 15 % off 9.99 is 8.4915: 8.49, rounded half up to the cent.
	saleID := sys.createSale(t, map[string]any{"sku": "D-2", "name": "Discounted", "list_price_cents": 999,
		"discount": map[string]any{"percent": 15}, "stock": 3, "starts_at": startsIn(0), "outflow_per_second": 100})
	// It opened at once: its discount, like the rest of its plan, is fixed.
	var refusal struct {
		Error struct{ Code string } `json:"error"`
	}
	if st := sys.call(t, http.MethodPatch, "/v1/admin/sales/"+saleID, sys.AdminToken,
		map[string]any{"discount": map[string]any{"amount_cents": 150}}, &refusal); st != http.StatusConflict ||
		refusal.Error.Code != "sale_opened" {
		t.Errorf("an open sale's discount edited: %d %+v", st, refusal)
	}
	o := shop(ctx, shopperclient.New(sys.URL), saleID)
	if o.err != nil || !o.ordered {
		t.Fatalf("the shopper: %+v", o)
	}
	var price, quantity int64
	if err := sys.DB.QueryRow(`SELECT price_cents, quantity FROM orders WHERE sale_id = $1`, saleID).Scan(&price, &quantity); err != nil {
		t.Fatal(err)
	}
	if price*quantity != 849 {
		t.Errorf("the order: %d × %d cents, want 849", quantity, price)
	}
}

func TestADiscountIsEditedBeforeTheOpeningAndShoppersSeeTheListPrice(t *testing.T) {
	sys := startSystem(t)
	saleID := sys.createSale(t, map[string]any{"sku": "D-3", "name": "Later", "price_cents": 8000, "stock": 3,
		"starts_at": startsIn(2 * time.Hour)})
	var plan map[string]any
	if st := sys.call(t, http.MethodPatch, "/v1/admin/sales/"+saleID, sys.AdminToken,
		map[string]any{"discount": map[string]any{"amount_cents": 2000}}, &plan); st != http.StatusOK ||
		plan["price_cents"] != 6000.0 || plan["list_price_cents"] != 8000.0 {
		t.Fatalf("20.00 off a sale of 80.00: %d %v", st, plan)
	}
	var public map[string]any
	sys.call(t, http.MethodGet, "/v1/sales/"+saleID, "", nil, &public)
	if public["price_cents"] != 6000.0 || public["list_price_cents"] != 8000.0 {
		t.Errorf("the public sale: %v", public)
	}
	var refusal map[string]any
	if st := sys.call(t, http.MethodPatch, "/v1/admin/sales/"+saleID, sys.AdminToken,
		map[string]any{"discount": map[string]any{"percent": 91}}, &refusal); st != http.StatusUnprocessableEntity {
		t.Errorf("91 %% by an edit: %d %v", st, refusal)
	}
	var row struct {
		Price int64 `db:"price_cents"`
		List  int64 `db:"list_price_cents"`
		Off   int64 `db:"discount_amount_cents"`
	}
	if err := sys.DB.Get(&row, `SELECT price_cents, list_price_cents, discount_amount_cents FROM sales WHERE id = $1`, saleID); err != nil ||
		row.Price != 6000 || row.List != 8000 || row.Off != 2000 {
		t.Errorf("the row after a refused edit: %+v, %v", row, err)
	}
	var removed map[string]any // fresh: decoding into a used map would keep its keys
	if st := sys.call(t, http.MethodPatch, "/v1/admin/sales/"+saleID, sys.AdminToken,
		map[string]any{"discount": map[string]any{}}, &removed); st != http.StatusOK || removed["price_cents"] != 8000.0 ||
		removed["list_price_cents"] != nil || removed["discount_amount_cents"] != nil {
		t.Errorf("the discount removed: %d %v", st, removed)
	}
}
