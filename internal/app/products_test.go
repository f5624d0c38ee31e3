package app_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/foyerhq/foyer/internal/app"
	"github.com/foyerhq/foyer/internal/shopperclient"
)

// eventBody is the admin's plan of an event of three products.
func eventBody(starts time.Duration) map[string]any {
	return map[string]any{
		"name": "Drop of three", "starts_at": startsIn(starts), "outflow_per_second": 100,
		"reservation_ttl_seconds": 60,
		"products": []map[string]any{
			{"sku": "TEE-RED", "name": "Red tee", "price_cents": 1500, "stock": 2, "per_shopper_limit": 1},
			{"sku": "TEE-BLUE", "name": "Blue tee", "list_price_cents": 2000, "discount_percent": 25, "stock": 3,
				"per_shopper_limit": 2, "description": "Blue.\nSoft."},
			{"sku": "CAP", "name": "Cap", "price_cents": 900, "stock": 1, "per_shopper_limit": 1},
		},
	}
}

// admittedOnce connects a new shopper, joins the sale once, and waits for
// its admission.
func admittedOnce(ctx context.Context, c *shopperclient.Client, saleID string) (*shopperclient.Conn, shopperclient.Message, error) {
	conn, s, err := joinedShopper(ctx, c, saleID)
	if err != nil {
		return nil, shopperclient.Message{}, err
	}
	for {
		m, err := conn.Next(ctx)
		if err != nil {
			conn.CloseNow()
			return nil, m, fmt.Errorf("shopper %s: %w", s.ShopperID, err)
		}
		if m.Type == "admitted" {
			return conn, m, nil
		}
	}
}

func TestShoppersOfAnEventOfThreeProductsEachBuyTheProductTheyChoseAtItsPrice(t *testing.T) {
	sys := startSystem(t)
	saleID := sys.createSale(t, eventBody(time.Second))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	client := shopperclient.New(sys.URL)

	// Six shoppers, six units: each joins the one queue once and is let out.
	choices := []string{"TEE-RED", "TEE-RED", "TEE-BLUE", "TEE-BLUE", "TEE-BLUE", "CAP"}
	results := make([]struct{ err error }, len(choices))
	admitted := make([]shopperclient.Message, len(choices))
	conns := make([]*shopperclient.Conn, len(choices))
	var wg sync.WaitGroup
	for i := range choices {
		wg.Go(func() {
			conns[i], admitted[i], results[i].err = admittedOnce(ctx, client, saleID)
		})
	}
	wg.Wait()
	for i, r := range results {
		if r.err != nil {
			t.Fatal(r.err)
		}
		defer conns[i].CloseNow()
	}

	// The first shopper names no product, then one the event does not
	// hold: both refused, its hold kept for the product it then names.
	if _, err := client.CheckoutProduct(ctx, admitted[0].CheckoutURL, admitted[0].Token, "", 1); !isCode(err, http.StatusUnprocessableEntity, "product_required") {
		t.Errorf("an event's checkout without a product: %v, want 422 product_required", err)
	}
	if _, err := client.CheckoutProduct(ctx, admitted[0].CheckoutURL, admitted[0].Token, "NOPE", 1); !isCode(err, http.StatusNotFound, "product_unknown") {
		t.Errorf("a product the event does not hold: %v, want 404 product_unknown", err)
	}
	for i, sku := range choices {
		r, err := client.CheckoutProduct(ctx, admitted[i].CheckoutURL, admitted[i].Token, sku, 1)
		if err != nil || r.Product != sku {
			t.Fatalf("checkout %d of %s: %+v (%v)", i, sku, r, err)
		}
	}

	var status struct {
		Products []struct {
			SKU, Name             string
			Left, Stock           int64
			PriceCents            int64 `json:"price_cents"`
			ListPriceCents        int64 `json:"list_price_cents"`
			PerShopperLimit       int   `json:"per_shopper_limit"`
			ImageURL, Description string
		}
		State string
	}
	if code := sys.call(t, http.MethodGet, "/v1/sales/"+saleID, "", nil, &status); code != http.StatusOK {
		t.Fatalf("public status: %d", code)
	}
	if len(status.Products) != 3 || status.Products[1].SKU != "TEE-BLUE" || status.Products[1].PriceCents != 1500 ||
		status.Products[1].ListPriceCents != 2000 || status.Products[1].Left != 0 || status.Products[1].Stock != 3 ||
		status.Products[1].PerShopperLimit != 2 || status.Products[1].Description != "Blue.\nSoft." || status.State != "sold_out" {
		t.Errorf("public status %+v, want three products, blue at 1500 (from 2000) with none left, sold out", status)
	}

	// Every order row, once written, has its product and its price.
	deadline := time.Now().Add(30 * time.Second)
	for sys.countOrders(t, saleID) < len(choices) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond) // the worker writes them asynchronously; no event reaches the test
	}
	var rows []struct {
		SKU        string `db:"sku"`
		PriceCents int64  `db:"price_cents"`
		N          int    `db:"n"`
	}
	if err := sys.DB.Select(&rows, `SELECT sku, price_cents, count(*) AS n FROM orders WHERE sale_id = $1
		GROUP BY sku, price_cents ORDER BY sku`, saleID); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprint([]any{"CAP", 900, 1, "TEE-BLUE", 1500, 3, "TEE-RED", 1500, 2})
	got := []any{}
	for _, r := range rows {
		got = append(got, r.SKU, r.PriceCents, r.N)
	}
	if fmt.Sprint(got) != want {
		t.Errorf("orders by product %v, want %v", got, want)
	}
	var soldRed, soldSale int
	if err := sys.DB.Get(&soldRed, `SELECT sold FROM sale_products WHERE sale_id = $1 AND sku = 'TEE-RED'`, saleID); err != nil {
		t.Fatal(err)
	}
	if err := sys.DB.Get(&soldSale, `SELECT sold FROM sales WHERE id = $1`, saleID); err != nil {
		t.Fatal(err)
	}
	if soldRed != 2 || soldSale != 6 {
		t.Errorf("postgres counts %d red tees and %d units sold, want 2 and 6", soldRed, soldSale)
	}

	// Redis lost, then rebuilt from Postgres: each product is as sold as
	// its orders say, so none can be sold again.
	if err := sys.Redis.FlushAll(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	var report bytes.Buffer
	if err := app.Reconcile(ctx, sys.cfg, saleID, true, &report); err != nil {
		t.Fatalf("repair: %v\n%s", err, report.String())
	}
	status.Products = nil
	sys.call(t, http.MethodGet, "/v1/sales/"+saleID, "", nil, &status)
	for _, p := range status.Products {
		if p.Left != 0 {
			t.Errorf("after the repair, %s has %d left, want 0: every unit of it was sold", p.SKU, p.Left)
		}
	}
	if len(status.Products) != 3 || status.State != "sold_out" {
		t.Errorf("after the repair: %+v, want three products, sold out", status)
	}
}

// isCode reports whether err is the API's answer with this status and code.
func isCode(err error, status int, code string) bool {
	e, ok := err.(*shopperclient.APIError)
	return ok && e.Status == status && e.Code == code
}

func TestAnEventWithABadListOfProductsIsRefusedAndLeavesNothingAnywhere(t *testing.T) {
	sys := startSystem(t)
	product := func(sku string) map[string]any {
		return map[string]any{"sku": sku, "name": sku, "price_cents": 100, "stock": 1, "per_shopper_limit": 1}
	}
	many := []map[string]any{}
	for i := range 21 {
		many = append(many, product(fmt.Sprintf("P%d", i)))
	}
	withSKU := eventBody(time.Minute)
	withSKU["sku"] = "TOP"
	withStock := eventBody(time.Minute)
	withStock["stock"] = 6
	for name, body := range map[string]map[string]any{
		"a sku twice":      {"name": "x", "products": []map[string]any{product("A"), product("A")}},
		"one product":      {"name": "x", "products": []map[string]any{product("A")}},
		"21 products":      {"name": "x", "products": many},
		"sku and products": withSKU,
		"stock beside":     withStock,
		"no name":          {"products": []map[string]any{product("A"), product("B")}},
		"an image the page would not load": {"name": "x", "products": []map[string]any{product("A"),
			{"sku": "B", "name": "B", "price_cents": 100, "stock": 1, "per_shopper_limit": 1, "image_url": "https://img.example/b.png"}}},
	} {
		var out struct {
			Error struct{ Code, Message string }
		}
		if code := sys.call(t, http.MethodPost, "/v1/admin/sales", sys.AdminToken, body, &out); code != http.StatusUnprocessableEntity ||
			out.Error.Code != "invalid_sale" {
			t.Errorf("%s: %d %s, want 422 invalid_sale", name, code, out.Error.Code)
		}
	}
	for _, q := range []string{`SELECT count(*) FROM sales`, `SELECT count(*) FROM sale_products`, `SELECT count(*) FROM admin_actions`} {
		if n := sys.count(t, q); n != 0 {
			t.Errorf("%s: %d after refused events, want 0", q, n)
		}
	}
	if keys, _ := sys.Redis.Keys(context.Background(), "sale:*").Result(); len(keys) != 0 {
		t.Errorf("refused events left %v in Redis", keys)
	}
}

func TestStockAddedToAnEventNamesItsProduct(t *testing.T) {
	sys := startSystem(t)
	saleID := sys.createSale(t, eventBody(time.Minute))
	before := sys.snapshot(t, saleID)
	sys.expect(t, http.MethodPost, "/v1/admin/sales/"+saleID+"/stock", map[string]any{"add": 2}, http.StatusUnprocessableEntity, "product_required")
	sys.expect(t, http.MethodPost, "/v1/admin/sales/"+saleID+"/stock", map[string]any{"add": 2, "product": "NOPE"}, http.StatusNotFound, "product_unknown")
	if after := sys.snapshot(t, saleID); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("refused stock changed the sale: %v, was %v", after, before)
	}
	if code := sys.call(t, http.MethodPost, "/v1/admin/sales/"+saleID+"/stock", sys.AdminToken, map[string]any{"add": 2, "product": "CAP"}, nil); code != http.StatusOK {
		t.Fatalf("add stock to CAP: %d", code)
	}
	var sale struct {
		Live struct {
			Products []struct {
				SKU         string
				Stock, Left int64
				Sold        *int64
			}
		}
	}
	sys.call(t, http.MethodGet, "/v1/admin/sales/"+saleID, sys.AdminToken, nil, &sale)
	if p := sale.Live.Products; len(p) != 3 || p[2].Stock != 3 || p[2].Left != 3 || p[2].Sold == nil || *p[2].Sold != 0 {
		t.Errorf("admin sale after 2 more caps: %+v, want CAP 3 of 3, none sold", p)
	}
	if n := sys.count(t, `SELECT stock FROM sale_products WHERE sale_id = $1 AND sku = 'CAP'`, saleID); n != 3 {
		t.Errorf("postgres has %d caps, want 3", n)
	}
}

// An operator adds two caps to an event: the stock push that tells the
// shoppers at once (before the once-a-second push) has the caps' new left,
// not the one from before.
func TestTheStockPushAfterStockIsAddedToAProductHasItsNewLeft(t *testing.T) {
	sys := startSystem(t)
	saleID := sys.createSale(t, eventBody(time.Minute))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client := shopperclient.New(sys.URL)
	s, err := client.NewSession(ctx)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := client.Connect(ctx, saleID, s)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	welcome, err := conn.Next(ctx)
	if err != nil || welcome.Type != "welcome" {
		t.Fatalf("first message %+v (%v), want the welcome", welcome, err)
	}
	if code := sys.call(t, http.MethodPost, "/v1/admin/sales/"+saleID+"/stock", sys.AdminToken,
		map[string]any{"add": 2, "product": "CAP"}, nil); code != http.StatusOK {
		t.Fatalf("add stock to CAP: %d", code)
	}
	for {
		m, err := conn.Next(ctx)
		if err != nil {
			t.Fatalf("awaiting the stock push: %v", err)
		}
		if m.Type != "stock" || m.Total != 8 {
			continue
		}
		left := map[string]int64{}
		for _, p := range m.Products {
			left[p.SKU] = p.Left
		}
		if fmt.Sprint(left) != fmt.Sprint(map[string]int64{"CAP": 3, "TEE-BLUE": 3, "TEE-RED": 2}) {
			t.Errorf("the first push of 8 units tells products %s, want CAP with 3 left", m.Raw)
		}
		return
	}
}

// An operator edits an event's products before its opening: a page open
// on it is pushed the products as the edit left them (names, prices,
// stock), and the Go client reads them in the welcome and in the push.
func TestAnEditOfAnEventsProductsBeforeTheOpeningIsPushedToAnOpenPage(t *testing.T) {
	sys := startNodes(t, 1, map[string]string{"FOYER_IMAGE_HOSTS": testImageHost})
	saleID := sys.createSale(t, eventBody(time.Hour))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client := shopperclient.New(sys.URL)
	s, err := client.NewSession(ctx)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := client.Connect(ctx, saleID, s)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	welcome, err := conn.Next(ctx)
	if err != nil || welcome.Type != "welcome" || len(welcome.Sale.Products) != 3 || welcome.Sale.Products[2].Name != "Cap" {
		t.Fatalf("welcome %s (%v), want the three products", welcome.Raw, err)
	}
	edit := map[string]any{"products": []map[string]any{
		{"sku": "TEE-RED", "name": "Crimson tee", "price_cents": 1700, "stock": 5, "per_shopper_limit": 1},
		{"sku": "HAT", "name": "Hat", "price_cents": 1100, "stock": 4, "per_shopper_limit": 2,
			"image_url": "https://" + testImageHost + "/hat.png"},
	}}
	if code := sys.call(t, http.MethodPatch, "/v1/admin/sales/"+saleID, sys.AdminToken, edit, nil); code != http.StatusOK {
		t.Fatalf("edit: %d", code)
	}
	for {
		m, err := conn.Next(ctx)
		if err != nil {
			t.Fatalf("awaiting the plan's push: %v", err)
		}
		if m.Type != "state" || len(m.Sale.Products) == 0 {
			continue
		}
		want := []shopperclient.Product{
			{SKU: "TEE-RED", Name: "Crimson tee", PriceCents: 1700, Stock: 5, Left: 5, PerShopperLimit: 1},
			{SKU: "HAT", Name: "Hat", PriceCents: 1100, Stock: 4, Left: 4, PerShopperLimit: 2, ImageURL: "https://" + testImageHost + "/hat.png"},
		}
		if fmt.Sprint(m.Sale.Products) != fmt.Sprint(want) {
			t.Errorf("the plan's push has products %+v, want %+v\n%s", m.Sale.Products, want, m.Raw)
		}
		return
	}
}
