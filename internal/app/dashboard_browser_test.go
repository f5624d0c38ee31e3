package app_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestTheDashboardInARealBrowserShowsWhatPostgresHolds signs in to the
// dashboard, watches a sale sell three units,
// and checks that its sold and order counts end equal to the rows in
// Postgres; it also pauses the sale from the dashboard. axe-core finds
// nothing on the page signed out and with the sale paused.
func TestTheDashboardInARealBrowserShowsWhatPostgresHolds(t *testing.T) {
	sys := startSystem(t)
	saleID := sys.createSale(t, map[string]any{"sku": "A-1", "name": "Dashboard sale", "stock": 10, "outflow_per_second": 100})
	ctx := newBrowser(t)
	if err := chromedp.Run(ctx,
		sys.openSignIn(),
		accessible(t, "dashboard, signed out"),
		submitToken(sys.AdminToken),
		chromedp.WaitVisible("#sale-"+saleID),
		chromedp.Click("#sale-"+saleID),
		chromedp.WaitVisible("#detail"),
	); err != nil {
		t.Fatal(err)
	}
	qctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for range 3 {
		orderStatus(t, qctx, buyOne(t, qctx, sys, saleID), "paid")
	}
	var rows, sold int
	sys.DB.Get(&rows, `SELECT count(*) FROM orders WHERE sale_id = $1 AND status <> 'cancelled'`, saleID)
	sys.DB.Get(&sold, `SELECT sold FROM sales WHERE id = $1`, saleID)
	number := func(id string) string {
		return fmt.Sprintf(`Number(document.querySelector('#%s').textContent.replace(/[^0-9]/g, ''))`, id)
	}
	if err := chromedp.Run(ctx,
		waitFor(number("stat-orders")+" === "+strconv.Itoa(rows)+" && "+number("stat-sold")+" === "+strconv.Itoa(sold)),
		shoot("6-dashboard"),
	); err != nil {
		var shown string
		chromedp.Run(ctx, chromedp.Text("#detail", &shown))
		t.Fatalf("the dashboard never showed %d orders and %d sold: %v\n%s", rows, sold, err, shown)
	}
	if err := chromedp.Run(ctx, chromedp.Click("#pause"),
		waitFor(`document.querySelector('#stat-state').textContent.toLowerCase().includes('paused')`),
		accessible(t, "dashboard, a sale paused")); err != nil {
		t.Fatalf("pausing from the dashboard: %v", err)
	}
	var state string
	sys.Redis.HGet(context.Background(), "sale:{"+saleID+"}:meta", "state").Scan(&state)
	if state != "paused" {
		t.Errorf("the sale is %q after the dashboard's pause", state)
	}
	var audit struct{ Entries []struct{ Action string } }
	sys.call(t, http.MethodGet, "/v1/admin/audit", sys.AdminToken, nil, &audit)
	if len(audit.Entries) == 0 || !strings.EqualFold(audit.Entries[0].Action, "pause") {
		t.Errorf("the audit log does not show the dashboard's pause first: %+v", audit.Entries)
	}
}
