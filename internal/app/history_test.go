package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// seriesPage is GET /v1/admin/sales/{id}/series.
type seriesPage struct {
	Second []int64 `json:"second"`
	Joins  []int64 `json:"joins"`
	Orders []int64 `json:"orders"`
}

// awaitSeries polls the sale's series until it has points, and returns it.
func (s *system) awaitSeries(t *testing.T, saleID string, from int64, points int) seriesPage {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var page seriesPage
		path := fmt.Sprintf("/v1/admin/sales/%s/series?from=%d&to=%d", saleID, from, time.Now().Unix()+1)
		if status := s.call(t, http.MethodGet, path, s.AdminToken, nil, &page); status != http.StatusOK {
			t.Fatalf("GET %s: %d", path, status)
		}
		if len(page.Second) >= points {
			return page
		}
		if time.Now().After(deadline) {
			t.Fatalf("the series has %d points after 20 s, want %d", len(page.Second), points)
		}
		time.Sleep(100 * time.Millisecond) // the points are rows in Postgres: nothing to await but them
	}
}

type apiError struct {
	Error struct {
		Code string `json:"code"`
	} `json:"error"`
}

// Two gateways run a sale; its series has a point a second, read back in
// bounded pages; once it ends, its report and CSV tell what happened, and
// its public report is 404 until the operator publishes it, then names no
// shopper.
func TestASalesSeriesReportAndPublicFairnessReportOverHTTP(t *testing.T) {
	sys := startNodes(t, 2, map[string]string{"FOYER_PAYMENT_OUTCOME": "never", "FOYER_SERIES_FLUSH": "200ms"})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	from := time.Now().Unix() - 1
	saleID, bought := ordersSale(t, ctx, sys, 2)
	sys.pay(t, ctx, saleID, bought[0])
	page := sys.awaitSeries(t, saleID, from, 2)
	for i := 1; i < len(page.Second); i++ {
		if page.Second[i] <= page.Second[i-1] {
			t.Fatalf("seconds twice or out of order, as two writers would make them: %v", page.Second)
		}
	}

	for path, code := range map[string]string{
		"/series?from=1000&to=" + strconv.Itoa(1000+6*3600+1): "series_span_too_wide",
		"/series?from=1000":         "series_span_invalid",
		"/series?from=2000&to=1000": "series_span_invalid",
		"/series?from=x&to=1000":    "series_span_invalid",
	} {
		var refused apiError
		if status := sys.call(t, http.MethodGet, "/v1/admin/sales/"+saleID+path, sys.AdminToken, nil, &refused); status != http.StatusBadRequest || refused.Error.Code != code {
			t.Errorf("GET %s: %d %q, want 400 %s", path, status, refused.Error.Code, code)
		}
	}

	if status := sys.call(t, http.MethodPost, "/v1/admin/sales/"+saleID+"/stop", sys.AdminToken, nil, nil); status != http.StatusOK {
		t.Fatalf("stop: %d", status)
	}
	var rep struct {
		State  string `json:"state"`
		Funnel struct {
			Joined, Admitted, Orders int64
		} `json:"funnel"`
		Payments struct {
			Paid, Pending struct{ Count int64 }
		} `json:"payments"`
		Waits struct {
			Overall struct{ Shoppers int64 } `json:"overall"`
		} `json:"waits"`
		Fairness struct{ Published bool } `json:"fairness"`
	}
	if status := sys.call(t, http.MethodGet, "/v1/admin/sales/"+saleID+"/report", sys.AdminToken, nil, &rep); status != http.StatusOK {
		t.Fatalf("GET report: %d", status)
	}
	if rep.State != "ended" || rep.Funnel.Joined != 2 || rep.Funnel.Admitted != 2 || rep.Funnel.Orders != 2 ||
		rep.Payments.Paid.Count != 1 || rep.Payments.Pending.Count != 1 || rep.Waits.Overall.Shoppers != 2 || rep.Fairness.Published {
		t.Errorf("report %+v: want ended, 2 joined, admitted and ordered, 1 paid, 1 pending, 2 waits, unpublished", rep)
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, sys.URL+"/v1/admin/sales/"+saleID+"/report.csv", nil)
	req.Header.Set("Authorization", "Bearer "+sys.AdminToken)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") ||
		!strings.Contains(string(body), "funnel,admitted,2\n") || !strings.Contains(string(body), "payments,paid_count,1\n") {
		t.Errorf("GET report.csv: %d %s\n%s", res.StatusCode, res.Header.Get("Content-Type"), body)
	}

	var refused apiError
	if status := sys.call(t, http.MethodGet, "/v1/sales/"+saleID+"/fairness", "", nil, &refused); status != http.StatusNotFound || refused.Error.Code != "fairness_unpublished" {
		t.Fatalf("the unpublished fairness report: %d %q, want 404 fairness_unpublished", status, refused.Error.Code)
	}
	if status := sys.call(t, http.MethodPut, "/v1/admin/sales/"+saleID+"/fairness", "", map[string]bool{"published": true}, nil); status != http.StatusUnauthorized {
		t.Errorf("publishing without the admin token: %d, want 401", status)
	}
	if status := sys.call(t, http.MethodPut, "/v1/admin/sales/"+saleID+"/fairness", sys.AdminToken, map[string]string{"published": "yes"}, &refused); status != http.StatusBadRequest {
		t.Errorf("publishing with a bad body: %d, want 400", status)
	}
	if status := sys.call(t, http.MethodPut, "/v1/admin/sales/"+saleID+"/fairness", sys.AdminToken, map[string]bool{"published": true}, nil); status != http.StatusOK {
		t.Fatalf("publish: %d", status)
	}
	var public json.RawMessage
	if status := sys.call(t, http.MethodGet, "/v1/sales/"+saleID+"/fairness", "", nil, &public); status != http.StatusOK {
		t.Fatalf("the published fairness report: %d", status)
	}
	for _, secret := range append([]string{`"shopper"`, `"shopper_id"`, `"ip"`, `"shoppers":[`}, bought...) {
		if strings.Contains(string(public), secret) {
			t.Errorf("the public report carries %q: %s", secret, public)
		}
	}
	var audited int
	if err := sys.DB.GetContext(ctx, &audited, `SELECT count(*) FROM admin_actions WHERE sale_id = $1 AND action = 'fairness_published'`, saleID); err != nil || audited != 1 {
		t.Errorf("%d audit rows of the publishing (err %v), want 1", audited, err)
	}
}

// The dashboard's charts draw a sale from its start, also after the page is
// reloaded, and the report page renders it, printable, and its public view.
func TestTheDashboardChartsDrawFromTheSalesStartAfterAReloadAndTheReportPageRenders(t *testing.T) {
	sys := startNodes(t, 1, map[string]string{"FOYER_PAYMENT_OUTCOME": "never", "FOYER_SERIES_FLUSH": "200ms"})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	from := time.Now().Unix() - 1
	saleID, _ := ordersSale(t, ctx, sys, 1)
	first := sys.awaitSeries(t, saleID, from, 3).Second[0]

	b := newBrowser(t)
	loaded := waitFor(`document.getElementById("charts").dataset.series === "loaded:` + saleID + `"`)
	var drawnFrom string
	if err := chromedp.Run(b,
		chromedp.Navigate(sys.URL+"/admin.html"),
		chromedp.WaitVisible("#token"),
		chromedp.SendKeys("#token", sys.AdminToken),
		chromedp.Click("#signin-submit"),
		chromedp.WaitVisible("#sale-"+saleID),
		chromedp.Click("#sale-"+saleID),
		loaded,
		chromedp.Reload(),
		loaded,
		chromedp.AttributeValue("#charts", "data-first", &drawnFrom, nil),
		chromedp.ScrollIntoView("#charts"),
		shoot("dashboard-charts-after-reload"),
	); err != nil {
		t.Fatalf("the dashboard's charts: %v", err)
	}
	if got, _ := strconv.ParseInt(drawnFrom, 10, 64); got == 0 || got > first {
		t.Errorf("after a reload the charts start at %s, want the series' first second %d or before", drawnFrom, first)
	}

	var summary, status string
	if err := chromedp.Run(b,
		chromedp.Navigate(sys.URL+"/report.html?sale="+saleID),
		waitFor(`document.getElementById("report").dataset.state === "ready"`),
		chromedp.Text("#summary-rows", &summary),
		accessible(t, "the operator's report"),
		shoot("report-operator"),
		chromedp.Click("#publish"),
		waitFor(`document.getElementById("publish").dataset.published === "true"`),
		chromedp.Navigate(sys.URL+"/report.html?sale="+saleID+"&view=public"),
		waitFor(`document.getElementById("report").dataset.state === "ready"`),
		chromedp.Text("#status", &status),
		accessible(t, "the public fairness report"),
		shoot("report-public"),
	); err != nil {
		var shown string
		_ = chromedp.Run(b, chromedp.Text("#status", &shown))
		t.Fatalf("the report page: %v (it says %q)", err, shown)
	}
	if !strings.Contains(summary, "Admitted") || !strings.Contains(summary, "Orders") {
		t.Errorf("the report's numbers read %q", summary)
	}
}
