package webhooks_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/foyerhq/foyer/internal/webhooks"
)

func TestRedeliverSendsTheSameEventAgainAsANewDelivery(t *testing.T) {
	db := newDB(t)
	s, rec := newStore(db), webhooks.NewRecorder()
	r := newReceiver(t, nil)
	c := register(t, s, r, webhooks.OrderCreated)
	runDispatcher(t, db, fast)

	writeOrders(t, db, rec, 1, 1, "pending_payment")
	r.awaitAccepted(t, 1)
	eventually(t, 5*time.Second, func() (bool, string) {
		n := count(t, db, `SELECT count(*) FROM webhook_deliveries WHERE status = 'delivered'`)
		return n == 1, "the delivery is not recorded as delivered"
	})
	page, err := s.Log(t.Context(), c.ID, webhooks.LogQuery{})
	if err != nil {
		t.Fatal(err)
	}
	first := page.Deliveries[0]
	if first.Status != webhooks.StatusDelivered || first.Attempts != 1 || first.LastLatencyMS == nil || first.DeliveredAt == nil {
		t.Errorf("the delivered one reads %+v", first)
	}
	again, err := s.Redeliver(t.Context(), c.ID, first.ID, "test")
	if err != nil {
		t.Fatal(err)
	}
	if again.ID == first.ID || again.EventID != first.EventID || again.Status != webhooks.StatusPending {
		t.Errorf("the redelivery reads %+v", again)
	}
	r.awaitAccepted(t, 2)
	got := r.accepted()
	if got[1].ID != got[0].ID || !got[1].SignatureOK {
		t.Errorf("redelivered %s (signature ok: %v), want %s again", got[1].ID, got[1].SignatureOK, got[0].ID)
	}
	if n := count(t, db, `SELECT count(*) FROM admin_actions WHERE action = 'webhook_redelivered'`); n != 1 {
		t.Errorf("%d audit rows for the redelivery, want 1", n)
	}
}

func TestReplaySinceSendsEveryEventOfTheEndpointsTypesSinceThen(t *testing.T) {
	db := newDB(t)
	s, rec := newStore(db), webhooks.NewRecorder()
	r := newReceiver(t, nil)
	c := register(t, s, r, webhooks.OrderCreated, webhooks.OrderPaid)

	writeOrders(t, db, rec, 1, 2, "pending_payment") // before since
	var since time.Time
	if err := db.Get(&since, `SELECT now()`); err != nil {
		t.Fatal(err)
	}
	ids := writeOrders(t, db, rec, 3, 2, "pending_payment")
	settle(t, db, rec, ids, "cancelled") // a type the endpoint did not ask for
	runDispatcher(t, db, fast)
	r.awaitAccepted(t, 4)

	n, err := s.Replay(t.Context(), c.ID, since, "test")
	if err != nil || n != 2 {
		t.Fatalf("replay made %d deliveries (%v), want 2", n, err)
	}
	r.awaitAccepted(t, 6)
	var replayed []string
	for _, g := range r.accepted()[4:] {
		var d webhooks.OrderData
		if err := jsonDecode(g.Event.Data, &d); err != nil {
			t.Fatal(err)
		}
		replayed = append(replayed, g.Type+" "+d.ReservationID)
	}
	slices.Sort(replayed) // two orders' events go out side by side
	if strings.Join(replayed, ",") != "order.created r_003,order.created r_004" {
		t.Errorf("replayed %v", replayed)
	}
}

// Every bad request is refused with its sentinel, and leaves the
// endpoints, deliveries and audit log as they were.
func TestBadWebhookRequestsChangeNothing(t *testing.T) {
	db := newDB(t)
	s, rec := newStore(db), webhooks.NewRecorder()
	r := newReceiver(t, nil)
	c := register(t, s, r)
	writeOrders(t, db, rec, 1, 1, "pending_payment")
	strict := webhooks.NewStore(db) // AllowPrivate off, as in production

	snapshot := func() string {
		var out string
		if err := db.Get(&out, `SELECT (SELECT count(*) FROM webhook_endpoints) || '/' ||
			(SELECT count(*) FROM webhook_deliveries) || '/' || (SELECT count(*) FROM admin_actions)`); err != nil {
			t.Fatal(err)
		}
		return out
	}
	before := snapshot()
	good := webhooks.NewEndpoint{URL: "https://shop.example/hooks", Events: []string{webhooks.OrderPaid}}
	bad := func(mut func(*webhooks.NewEndpoint)) webhooks.NewEndpoint {
		e := good
		mut(&e)
		return e
	}
	for name, e := range map[string]webhooks.NewEndpoint{
		"no url":              bad(func(e *webhooks.NewEndpoint) { e.URL = "" }),
		"ftp":                 bad(func(e *webhooks.NewEndpoint) { e.URL = "ftp://shop.example/hooks" }),
		"relative":            bad(func(e *webhooks.NewEndpoint) { e.URL = "/hooks" }),
		"too long":            bad(func(e *webhooks.NewEndpoint) { e.URL = "https://shop.example/" + strings.Repeat("a", 500) }),
		"credentials":         bad(func(e *webhooks.NewEndpoint) { e.URL = "https://user:pw@shop.example/hooks" }),
		"fragment":            bad(func(e *webhooks.NewEndpoint) { e.URL = "https://shop.example/hooks#x" }),
		"space":               bad(func(e *webhooks.NewEndpoint) { e.URL = "https://shop.example/ho oks" }),
		"metadata address":    bad(func(e *webhooks.NewEndpoint) { e.URL = "http://169.254.169.254/latest" }),
		"loopback":            bad(func(e *webhooks.NewEndpoint) { e.URL = "http://127.0.0.1:8080/hooks" }),
		"localhost":           bad(func(e *webhooks.NewEndpoint) { e.URL = "http://localhost:8080/hooks" }),
		"private":             bad(func(e *webhooks.NewEndpoint) { e.URL = "http://10.0.0.7/hooks" }),
		"ipv6 loopback":       bad(func(e *webhooks.NewEndpoint) { e.URL = "http://[::1]/hooks" }),
		"no events":           bad(func(e *webhooks.NewEndpoint) { e.Events = nil }),
		"unknown event":       bad(func(e *webhooks.NewEndpoint) { e.Events = []string{"order.shipped"} }),
		"control description": bad(func(e *webhooks.NewEndpoint) { e.Description = "a\x00b" }),
		"long description":    bad(func(e *webhooks.NewEndpoint) { e.Description = strings.Repeat("d", 201) }),
	} {
		if _, err := strict.Create(t.Context(), e, "test"); !errors.Is(err, webhooks.ErrBadRequest) {
			t.Errorf("%s: %v, want ErrBadRequest", name, err)
		}
	}
	if _, err := s.Create(t.Context(), bad(func(e *webhooks.NewEndpoint) { e.URL = "http://[fe80::1]/x" }), "test"); !errors.Is(err, webhooks.ErrBadRequest) {
		t.Errorf("link-local with private allowed: %v, want ErrBadRequest", err)
	}
	if err := s.Delete(t.Context(), "we_nosuch", "test"); !errors.Is(err, webhooks.ErrNotFound) {
		t.Errorf("delete of an unknown endpoint: %v", err)
	}
	if _, err := s.Redeliver(t.Context(), c.ID, 999999, "test"); !errors.Is(err, webhooks.ErrDeliveryNotFound) {
		t.Errorf("redeliver of an unknown delivery: %v", err)
	}
	if _, err := s.Redeliver(t.Context(), "we_nosuch", 1, "test"); !errors.Is(err, webhooks.ErrDeliveryNotFound) {
		t.Errorf("redeliver of another endpoint's delivery: %v", err)
	}
	if _, err := s.Log(t.Context(), "we_nosuch", webhooks.LogQuery{}); !errors.Is(err, webhooks.ErrNotFound) {
		t.Errorf("log of an unknown endpoint: %v", err)
	}
	for name, since := range map[string]time.Time{
		"zero": {}, "future": time.Now().Add(time.Hour), "too old": time.Now().Add(-31 * 24 * time.Hour),
	} {
		if _, err := s.Replay(t.Context(), c.ID, since, "test"); !errors.Is(err, webhooks.ErrBadRequest) {
			t.Errorf("replay since %s: %v, want ErrBadRequest", name, err)
		}
	}
	if _, err := s.Replay(t.Context(), "we_nosuch", time.Now().Add(-time.Minute), "test"); !errors.Is(err, webhooks.ErrNotFound) {
		t.Errorf("replay of an unknown endpoint: %v", err)
	}
	for _, q := range [][3]string{{"lost", "", ""}, {"", "0", ""}, {"", "501", ""}, {"", "x", ""}, {"", "", "***"}, {"", "", "MA"}} {
		if _, err := webhooks.ParseLogQuery(q[0], q[1], q[2]); !errors.Is(err, webhooks.ErrBadQuery) {
			t.Errorf("log query %q: %v, want ErrBadQuery", q, err)
		}
	}
	if after := snapshot(); after != before {
		t.Errorf("endpoints/deliveries/audit rows went from %s to %s", before, after)
	}
}

func TestNoMoreThanMaxEndpointsCanBeMade(t *testing.T) {
	db := newDB(t)
	s := newStore(db)
	for i := range webhooks.MaxEndpoints {
		if _, err := s.Create(t.Context(), webhooks.NewEndpoint{URL: "https://shop.example/" + string(rune('a'+i)),
			Events: []string{webhooks.OrderPaid}}, "test"); err != nil {
			t.Fatal(err)
		}
	}
	_, err := s.Create(t.Context(), webhooks.NewEndpoint{URL: "https://shop.example/z", Events: []string{webhooks.OrderPaid}}, "test")
	if !errors.Is(err, webhooks.ErrTooMany) {
		t.Errorf("endpoint %d: %v, want ErrTooMany", webhooks.MaxEndpoints+1, err)
	}
	if n := count(t, db, `SELECT count(*) FROM admin_actions WHERE action = 'webhook_created'`); n != webhooks.MaxEndpoints {
		t.Errorf("%d creations audited, want %d", n, webhooks.MaxEndpoints)
	}
}

func TestAnEndpointsSecretIsShownOnceAndDeletingItStopsItsDeliveries(t *testing.T) {
	db := newDB(t)
	s, rec := newStore(db), webhooks.NewRecorder()
	r := newReceiver(t, nil)
	c := register(t, s, r)
	if !strings.HasPrefix(c.Secret, "whsec_") || len(c.Secret) < 40 {
		t.Errorf("secret %q", c.Secret)
	}
	list, err := s.List(t.Context())
	if err != nil || len(list) != 1 || list[0].ID != c.ID {
		t.Fatalf("list %+v, %v", list, err)
	}
	body, _ := jsonEncode(list)
	if strings.Contains(string(body), c.Secret) {
		t.Error("the list shows the secret")
	}
	writeOrders(t, db, rec, 1, 1, "pending_payment")
	if err := s.Delete(t.Context(), c.ID, "test"); err != nil {
		t.Fatal(err)
	}
	if n := count(t, db, `SELECT count(*) FROM webhook_deliveries`); n != 0 {
		t.Errorf("%d deliveries left to a deleted endpoint", n)
	}
	if n := count(t, db, `SELECT count(*) FROM admin_actions WHERE action IN ('webhook_created', 'webhook_deleted')`); n != 2 {
		t.Errorf("%d audit rows, want 2", n)
	}
}
