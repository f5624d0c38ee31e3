package app_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/foyerhq/foyer/internal/webhooks"
)

// shopEndpoint is the shop's webhook endpoint in these tests: a real HTTP
// server that verifies every delivery, as docs/integration.md shows.
type shopEndpoint struct {
	*httptest.Server
	mu       sync.Mutex
	secret   string
	events   []webhooks.Event
	unsigned int
	arrived  chan struct{}
}

func newShopEndpoint(t *testing.T) *shopEndpoint {
	e := &shopEndpoint{arrived: make(chan struct{}, 1000)}
	e.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		e.mu.Lock()
		defer e.mu.Unlock()
		if webhooks.Verify(e.secret, r.Header.Get("Foyer-Signature"), body, time.Now(), 5*time.Minute) != nil {
			e.unsigned++
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		var ev webhooks.Event
		if err := json.Unmarshal(body, &ev); err != nil || ev.ID != r.Header.Get("Foyer-Event-Id") {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		e.events = append(e.events, ev)
		e.arrived <- struct{}{}
	}))
	t.Cleanup(e.Close)
	return e
}

// await waits until the endpoint holds what cond wants.
func (e *shopEndpoint) await(t *testing.T, ctx context.Context, what string, cond func([]webhooks.Event) bool) []webhooks.Event {
	t.Helper()
	for {
		e.mu.Lock()
		got := append([]webhooks.Event(nil), e.events...)
		e.mu.Unlock()
		if cond(got) {
			return got
		}
		select {
		case <-e.arrived:
		case <-ctx.Done():
			t.Fatalf("the shop's endpoint never got %s; it got %d events", what, len(got))
		}
	}
}

type createdEndpoint struct {
	ID     string   `json:"id"`
	URL    string   `json:"url"`
	Events []string `json:"events"`
	Secret string   `json:"secret"`
}

func TestTheShopsEndpointGetsEveryOrdersEventsSignedAndItsLogShowsThemDelivered(t *testing.T) {
	sys := startSystem(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	shop := newShopEndpoint(t)
	var ep createdEndpoint
	if status := sys.call(t, http.MethodPost, "/v1/admin/webhooks", sys.AdminToken, map[string]any{
		"url": shop.URL + "/foyer", "events": []string{"order.created", "order.paid", "sale.state_changed"},
		"description": "the shop"}, &ep); status != http.StatusCreated || !strings.HasPrefix(ep.Secret, "whsec_") {
		t.Fatalf("create endpoint: %d %+v", status, ep)
	}
	shop.mu.Lock()
	shop.secret = ep.Secret
	shop.mu.Unlock()

	saleID, bought := ordersSale(t, ctx, sys, 2) // the test provider pays each
	got := shop.await(t, ctx, "order.created and order.paid of both orders", func(evs []webhooks.Event) bool {
		paid := 0
		for _, e := range evs {
			if e.Type == webhooks.OrderPaid {
				paid++
			}
		}
		return paid == 2
	})
	byReservation := map[string][]string{}
	for _, e := range got {
		if e.SaleID != saleID {
			t.Errorf("event %s of sale %s", e.ID, e.SaleID)
		}
		if e.Type == webhooks.SaleStateChanged {
			continue
		}
		var d webhooks.OrderData
		if err := json.Unmarshal(e.Data, &d); err != nil {
			t.Fatal(err)
		}
		if d.AmountCents != 1250 || d.Currency != "USD" || d.Quantity != 1 {
			t.Errorf("%s data %+v", e.Type, d)
		}
		byReservation[d.ReservationID] = append(byReservation[d.ReservationID], e.Type)
	}
	for _, r := range bought {
		if types := strings.Join(byReservation[r], ","); types != "order.created,order.paid" {
			t.Errorf("reservation %s: %s", r, types)
		}
	}
	sys.admin(t, http.MethodPost, "/v1/admin/sales/"+saleID+"/pause", nil, http.StatusOK)
	shop.await(t, ctx, "the sale's pause", func(evs []webhooks.Event) bool {
		for _, e := range evs {
			if e.Type == webhooks.SaleStateChanged && strings.Contains(string(e.Data), `"paused"`) {
				return true
			}
		}
		return false
	})

	var log webhooks.LogPage
	deadline := time.Now().Add(10 * time.Second)
	for {
		if status := sys.call(t, http.MethodGet, "/v1/admin/webhooks/"+ep.ID+"/deliveries?status=delivered", sys.AdminToken, nil, &log); status != http.StatusOK {
			t.Fatalf("delivery log: %d", status)
		}
		if len(log.Deliveries) >= 5 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond) // the worker records a 2xx just after the shop sent it
	}
	if len(log.Deliveries) < 5 {
		t.Fatalf("%d delivered in the log, want at least 5", len(log.Deliveries))
	}
	for _, d := range log.Deliveries {
		if d.Attempts != 1 || d.LastStatusCode == nil || *d.LastStatusCode != 200 || d.LastLatencyMS == nil || d.NextAttemptAt != nil {
			t.Errorf("log line %+v", d)
		}
	}

	// The shop does the same with a key scoped webhooks, and is audited as that key.
	k := sys.createShopKey(t, "hooks", "webhooks")
	var replay struct{ Replayed int }
	if status := sys.call(t, http.MethodPost, "/v1/shop/webhooks/"+ep.ID+"/replay", k.Key,
		map[string]string{"since": time.Now().Add(-time.Hour).Format(time.RFC3339)}, &replay); status != http.StatusAccepted || replay.Replayed < 5 {
		t.Errorf("replay with a shop key: %d %+v", status, replay)
	}
	if n := sys.count(t, `SELECT count(*) FROM admin_actions WHERE action = 'webhook_replayed' AND actor = $1`, "shop_key:"+k.ID); n != 1 {
		t.Errorf("%d replays audited as the shop key", n)
	}
	var list struct{ Endpoints []map[string]any }
	if status := sys.call(t, http.MethodGet, "/v1/admin/webhooks", sys.AdminToken, nil, &list); status != http.StatusOK ||
		len(list.Endpoints) != 1 || list.Endpoints[0]["secret"] != nil {
		t.Errorf("list: %d %+v", status, list)
	}
}

// webhookState is what a refused webhook request must leave as it was.
func (s *system) webhookState(t *testing.T) string {
	t.Helper()
	var out string
	if err := s.DB.Get(&out, `SELECT (SELECT count(*) FROM webhook_endpoints) || '/' ||
		(SELECT count(*) FROM webhook_deliveries) || '/' || (SELECT count(*) FROM admin_actions)`); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestBadWebhookRequestsGetTheirCodesAndChangeNothing(t *testing.T) {
	sys := startSystem(t)
	shop := newShopEndpoint(t)
	var ep createdEndpoint
	if status := sys.call(t, http.MethodPost, "/v1/admin/webhooks", sys.AdminToken,
		map[string]any{"url": shop.URL, "events": []string{"order.paid"}}, &ep); status != http.StatusCreated {
		t.Fatalf("create: %d", status)
	}
	ordersKey := sys.createShopKey(t, "orders only", "orders")
	before := sys.webhookState(t)
	base := "/v1/admin/webhooks"
	for _, c := range []struct {
		method, path string
		body         any
		status       int
		code         string
	}{
		{http.MethodPost, base, map[string]any{"url": "ftp://shop.example/x", "events": []string{"order.paid"}}, 422, "webhook_request_invalid"},
		{http.MethodPost, base, map[string]any{"url": "http://169.254.169.254/", "events": []string{"order.paid"}}, 422, "webhook_request_invalid"},
		{http.MethodPost, base, map[string]any{"url": "https://shop.example/" + strings.Repeat("x", 500), "events": []string{"order.paid"}}, 422, "webhook_request_invalid"},
		{http.MethodPost, base, map[string]any{"url": "https://shop.example/x", "events": []string{"order.shipped"}}, 422, "webhook_request_invalid"},
		{http.MethodPost, base, map[string]any{"url": "https://shop.example/x"}, 422, "webhook_request_invalid"},
		{http.MethodPost, base, "not an object", 400, "bad_request"},
		{http.MethodDelete, base + "/we_nosuch", nil, 404, "webhook_unknown"},
		{http.MethodGet, base + "/we_nosuch/deliveries", nil, 404, "webhook_unknown"},
		{http.MethodGet, base + "/" + ep.ID + "/deliveries?status=lost", nil, 400, "bad_request"},
		{http.MethodGet, base + "/" + ep.ID + "/deliveries?limit=0", nil, 400, "bad_request"},
		{http.MethodGet, base + "/" + ep.ID + "/deliveries?cursor=%2A%2A", nil, 400, "bad_request"},
		{http.MethodPost, base + "/" + ep.ID + "/deliveries/999/redeliver", nil, 404, "webhook_delivery_unknown"},
		{http.MethodPost, base + "/" + ep.ID + "/deliveries/x/redeliver", nil, 404, "webhook_delivery_unknown"},
		{http.MethodPost, base + "/" + ep.ID + "/replay", map[string]any{"since": "yesterday"}, 422, "webhook_request_invalid"},
		{http.MethodPost, base + "/" + ep.ID + "/replay", map[string]any{"since": time.Now().Add(time.Hour).Format(time.RFC3339)}, 422, "webhook_request_invalid"},
		{http.MethodPost, base + "/" + ep.ID + "/replay", map[string]any{"since": time.Now().AddDate(0, -2, 0).Format(time.RFC3339)}, 422, "webhook_request_invalid"},
		{http.MethodPost, base + "/we_nosuch/replay", map[string]any{"since": time.Now().Add(-time.Hour).Format(time.RFC3339)}, 404, "webhook_unknown"},
	} {
		sys.expect(t, c.method, c.path, c.body, c.status, c.code)
	}
	for _, c := range []struct {
		key, code string
		status    int
	}{{"", "shop_key_invalid", 401}, {"fk_000000000000_nope", "shop_key_invalid", 401}, {ordersKey.Key, "shop_key_scope", 403}, {sys.AdminToken, "shop_key_invalid", 401}} {
		var out struct{ Error struct{ Code string } }
		if status := sys.call(t, http.MethodPost, "/v1/shop/webhooks", c.key,
			map[string]any{"url": "https://shop.example/x", "events": []string{"order.paid"}}, &out); status != c.status || out.Error.Code != c.code {
			t.Errorf("shop key %q: %d %s, want %d %s", c.key, status, out.Error.Code, c.status, c.code)
		}
	}
	if after := sys.webhookState(t); after != before {
		t.Errorf("endpoints/deliveries/audit rows went from %s to %s", before, after)
	}
}
