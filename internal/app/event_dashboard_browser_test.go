package app_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/foyerhq/foyer/internal/shopperclient"
)

// fillEventRows is JavaScript filling the New sale form's product rows,
// one array [sku, name, price, stock, limit, discount percent, catalog
// SKU] per row, adding rows as needed; a catalog SKU is picked last, as an
// operator would, and fills what it gives.
func fillEventRows(rows string) chromedp.Action {
	return chromedp.Evaluate(`(() => {
		const want = `+rows+`;
		while (document.querySelectorAll('#ns-product-rows .prow').length < want.length) document.querySelector('#ns-add-product').click();
		const set = (row, key, v) => {
			const e = row.querySelector('[data-key="' + key + '"]');
			e.value = v;
			e.dispatchEvent(new Event('change'));
		};
		[...document.querySelectorAll('#ns-product-rows .prow')].forEach((row, i) => {
			const [sku, name, price, stock, limit, off, pick] = want[i];
			set(row, 'sku', sku); set(row, 'name', name); set(row, 'price', price);
			set(row, 'stock', stock); set(row, 'limit', limit);
			set(row, 'kind', off ? 'percent' : ''); set(row, 'discount', off || '');
			if (pick) set(row, 'pick', pick);
		});
	})()`, nil)
}

// TestAnOperatorCreatesAnEventOfThreeProductsFromTheDashboardAndWatchesItSell
// fills the New sale form as an event: a SKU given twice is refused with the
// API's words beside the second row's SKU and nothing created; fixed, the
// event is created and listed with its products, and the detail's left of
// the cap (picked from the catalog) falls as a shopper buys it. Stock added
// names its product.
func TestAnOperatorCreatesAnEventOfThreeProductsFromTheDashboardAndWatchesItSell(t *testing.T) {
	sys := startSystem(t)
	if code, body := sys.importProducts(t, "text/csv", "sku,name,list_price_cents,currency,description\nCAP,Cap,900,EUR,Wool.\n"); code != http.StatusOK {
		t.Fatalf("import the cap: %d %s", code, body)
	}
	audited := sys.count(t, `SELECT count(*) FROM admin_actions`)
	ctx := newBrowser(t)
	if err := chromedp.Run(ctx,
		sys.signInWithToken(),
		chromedp.WaitVisible("#ns-kind-event"),
		chromedp.Click("#ns-kind-event"),
		chromedp.WaitVisible("#ns-products"),
		waitFor(`document.querySelector('#ns-sku').closest('[hidden]') !== null && document.querySelector('#ns-submit').textContent === 'Create event'`),
		// The catalog is read once signed in, on its own schedule.
		waitFor(`[...document.querySelector('#ns-product-rows select.pick').options].some((o) => o.value === 'CAP')`),
		chromedp.SetValue("#ns-name", "Autumn drop"),
		chromedp.SetValue("#ns-outflow", "100"),
		chromedp.SetValue("#ns-prequeue", "0"),
		fillEventRows(`[["TEE-RED", "Red tee", "25", "4", "2"], ["TEE-RED", "Blue tee", "30", "3", "1", 20], ["", "", "", "2", "1", 0, "CAP"]]`),
		waitFor(`document.querySelectorAll('#ns-product-rows .prow')[2].querySelector('[data-key="name"]').value === 'Cap'`),
		chromedp.Click("#ns-submit"),
		waitFor(`document.querySelectorAll('#ns-product-rows .prow')[1].querySelector('[data-key="sku"]').getAttribute('aria-invalid') === 'true'`),
	); err != nil {
		var msg string
		chromedp.Run(ctx, chromedp.Text("body", &msg))
		t.Fatalf("%v\n%s", err, msg)
	}
	var beside, first, focused string
	if err := chromedp.Run(ctx,
		chromedp.Evaluate(`document.querySelectorAll('#ns-product-rows .prow')[1].querySelector('[data-error-for="sku"]').textContent`, &beside),
		chromedp.Evaluate(`document.querySelectorAll('#ns-product-rows .prow')[0].querySelector('[data-error-for="sku"]').textContent`, &first),
		chromedp.Evaluate(`document.activeElement.id`, &focused),
		shoot("event-dashboard-duplicate-sku"),
		accessible(t, "dashboard, an event's row refused"),
	); err != nil {
		t.Fatal(err)
	}
	if beside != `sku "TEE-RED" is given twice: each product's sku must be unique` || first != "" {
		t.Errorf("beside the second row's SKU: %q, beside the first: %q; want the API's words beside the second alone", beside, first)
	}
	if !strings.HasSuffix(focused, "-sku") {
		t.Errorf("the focus is on %q, want the refused SKU", focused)
	}
	for _, q := range []string{`SELECT count(*) FROM sales`, `SELECT count(*) FROM sale_products`} {
		if n := sys.count(t, q); n != 0 {
			t.Errorf("%s: %d after the refused event, want 0", q, n)
		}
	}
	if n := sys.count(t, `SELECT count(*) FROM admin_actions`); n != audited {
		t.Errorf("%d audit rows after the refused event, want the import's %d", n, audited)
	}

	// Fixed, the event is created, listed with its products, and shown.
	if err := chromedp.Run(ctx,
		chromedp.Evaluate(`(() => {
			const sku = document.querySelectorAll('#ns-product-rows .prow')[1].querySelector('[data-key="sku"]');
			sku.value = 'TEE-BLUE';
		})()`, nil),
		chromedp.Click("#ns-submit"),
		waitFor(`document.querySelector('#ns-result').textContent.includes('Event created: Autumn drop')`),
		waitFor(`document.querySelector('#sales').textContent.includes('3 products: Red tee, Blue tee, Cap')`),
		waitFor(`!document.querySelector('#detail-products').hidden && document.querySelectorAll('#detail-product-rows tr').length === 3`),
		waitFor(`document.querySelector('#stat-state').textContent === 'open'`),
	); err != nil {
		var msg string
		chromedp.Run(ctx, chromedp.Text("body", &msg))
		t.Fatalf("creating the fixed event: %v\n%s", err, msg)
	}
	var saleID string
	if err := sys.DB.Get(&saleID, `SELECT id FROM sales`); err != nil {
		t.Fatal(err)
	}
	var blue struct {
		Price int64 `db:"price_cents"`
		List  int64 `db:"list_price_cents"`
	}
	if err := sys.DB.Get(&blue, `SELECT price_cents, list_price_cents FROM sale_products WHERE sale_id = $1 AND sku = 'TEE-BLUE'`, saleID); err != nil {
		t.Fatal(err)
	}
	if blue.Price != 2400 || blue.List != 3000 {
		t.Errorf("the blue tee is %d from %d, want 2400 from 3000 (20 %% off)", blue.Price, blue.List)
	}
	var capDescription string
	if err := sys.DB.Get(&capDescription, `SELECT description FROM sale_products WHERE sale_id = $1 AND sku = 'CAP' AND name = 'Cap' AND price_cents = 900`, saleID); err != nil || capDescription != "Wool." {
		t.Errorf("the cap picked from the catalog: %q (%v), want the catalog's at 900", capDescription, err)
	}

	// A shopper buys the cap: its left falls, live.
	qctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client := shopperclient.New(sys.URL)
	conn, admitted, err := admittedOnce(qctx, client, saleID)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	if _, err := client.CheckoutProduct(qctx, admitted.CheckoutURL, admitted.Token, "CAP", 1); err != nil {
		t.Fatalf("buy the cap: %v", err)
	}
	capCell := func(figure string) string {
		return `document.querySelector('#detail-product-rows tr[data-sku="CAP"] [data-figure="` + figure + `"]').dataset.value`
	}
	if err := chromedp.Run(ctx,
		waitFor(capCell("left")+` === '1' && `+capCell("sold")+` === '1' && `+capCell("stock")+` === '2'`),
		shoot("event-dashboard-sold-one"),
		accessible(t, "dashboard, an event selling"),
	); err != nil {
		var shown string
		chromedp.Run(ctx, chromedp.Text("#detail", &shown))
		t.Fatalf("the cap's left never fell to 1: %v\n%s", err, shown)
	}

	// Stock is added to the product the operator picks.
	if err := chromedp.Run(ctx,
		waitFor(`!document.querySelector('#stock-product-field').hidden`),
		chromedp.SetValue("#stock-product", "CAP"),
		chromedp.SetValue("#stock-add-n", "3"),
		chromedp.Click("#stock-add"),
		waitFor(`document.querySelector('#action-result').textContent.includes('Added 3 units of CAP')`),
		waitFor(capCell("left")+` === '4' && `+capCell("stock")+` === '5'`),
	); err != nil {
		var shown string
		chromedp.Run(ctx, chromedp.Text("#detail", &shown))
		t.Fatalf("adding stock to the cap: %v\n%s", err, shown)
	}
	if n := sys.count(t, `SELECT stock FROM sale_products WHERE sale_id = $1 AND sku = 'CAP'`, saleID); n != 5 {
		t.Errorf("postgres has %d caps, want 5", n)
	}
}

// TestAnOperatorChangesAnEventsProductsBeforeItOpens edits the products of
// a scheduled event in the plan's form: a limit above the bound is refused
// with the API's words beside that row's limit and nothing changed; a new
// stock for the cap is saved, and the event's stock is the new sum.
func TestAnOperatorChangesAnEventsProductsBeforeItOpens(t *testing.T) {
	sys := startSystem(t)
	saleID := sys.createSale(t, eventBody(time.Hour))
	ctx := newBrowser(t)
	row := func(i int, key string) string {
		return `document.querySelectorAll('#ed-product-rows .prow')[` + strconv.Itoa(i) + `].querySelector('[data-key="` + key + `"]')`
	}
	var limitSaid string
	if err := chromedp.Run(ctx,
		sys.signInWithToken(),
		chromedp.WaitVisible("#sale-"+saleID),
		chromedp.Click("#sale-"+saleID),
		chromedp.WaitVisible("#ed-products"),
		waitFor(`document.querySelectorAll('#ed-product-rows .prow').length === 3 && `+row(2, "sku")+`.value === 'CAP'`),
		waitFor(`document.querySelector('#ed-sku').closest('[hidden]') !== null`),
		chromedp.Evaluate(row(0, "limit")+`.value = '11'`, nil),
		chromedp.Click("#edit-save"),
		waitFor(row(0, "limit")+`.getAttribute('aria-invalid') === 'true'`),
		chromedp.Evaluate(`document.querySelectorAll('#ed-product-rows .prow')[0].querySelector('[data-error-for="limit"]').textContent`, &limitSaid),
		accessible(t, "dashboard, an event's plan refused"),
	); err != nil {
		var msg string
		chromedp.Run(ctx, chromedp.Text("#detail", &msg))
		t.Fatalf("%v\n%s", err, msg)
	}
	if limitSaid != "per_shopper_limit must be between 1 and 10" {
		t.Errorf("beside the red tee's limit: %q, want the API's words", limitSaid)
	}
	if n := sys.count(t, `SELECT count(*) FROM admin_actions`); n != 1 {
		t.Errorf("%d audit rows after a refused edit, want the creation's alone", n)
	}
	if err := chromedp.Run(ctx,
		chromedp.Evaluate(row(0, "limit")+`.value = '1'`, nil),
		chromedp.Evaluate(row(2, "stock")+`.value = '5'`, nil),
		chromedp.Click("#edit-save"),
		waitFor(`document.querySelector('#action-result').textContent.includes('changed: products')`),
		waitFor(`document.querySelector('#detail-product-rows tr[data-sku="CAP"] [data-figure="stock"]').dataset.value === '5'`),
		shoot("event-dashboard-plan-edit"),
	); err != nil {
		var msg string
		chromedp.Run(ctx, chromedp.Text("#detail", &msg))
		t.Fatalf("saving the cap's stock: %v\n%s", err, msg)
	}
	if n := sys.count(t, `SELECT stock FROM sale_products WHERE sale_id = $1 AND sku = 'CAP'`, saleID); n != 5 {
		t.Errorf("postgres has %d caps, want 5", n)
	}
	if n := sys.count(t, `SELECT stock FROM sales WHERE id = $1`, saleID); n != 10 {
		t.Errorf("the event's stock is %d, want 2 + 3 + 5", n)
	}
}
