package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/foyerhq/foyer/internal/shopperclient"
	"github.com/foyerhq/foyer/internal/wire"
	"github.com/foyerhq/foyer/waitingroom"
)

// Issue 23, operators: a sale's plan changes and the sale can be deleted
// until it opens, not after; messages clear and come at their time.

// planRow is the whole of a sale's row an edit may change.
type planRow struct {
	Name     string    `db:"name"`
	SKU      string    `db:"sku"`
	Price    int64     `db:"price_cents"`
	Stock    int       `db:"stock"`
	StartsAt time.Time `db:"starts_at"`
	EndsAt   time.Time `db:"ends_at"`
	Prequeue int       `db:"prequeue_seconds"`
	Limit    int       `db:"per_shopper_limit"`
}

func (s *system) planRow(t *testing.T, saleID string) planRow {
	t.Helper()
	var r planRow
	if err := s.DB.Get(&r, `SELECT name, sku, price_cents, stock, starts_at, ends_at, prequeue_seconds, per_shopper_limit
		FROM sales WHERE id = $1`, saleID); err != nil {
		t.Fatal(err)
	}
	r.StartsAt, r.EndsAt = r.StartsAt.UTC(), r.EndsAt.UTC()
	return r
}

// saleKeys lists the sale's keys in Redis, sorted, but the admitter's lease
// and fence, which its admitter takes and renews whatever the operator does.
func (s *system) saleKeys(t *testing.T, saleID string) []string {
	t.Helper()
	keys, err := s.Redis.Keys(context.Background(), "sale:{"+saleID+"}:*").Result()
	if err != nil {
		t.Fatal(err)
	}
	k := waitingroom.Keys(saleID)
	keys = slices.DeleteFunc(keys, func(key string) bool { return key == k.Lease || key == k.Fence })
	slices.Sort(keys)
	return keys
}

// nextState reads until a state message that passes ok arrives, and returns it raw.
func nextState(t *testing.T, ctx context.Context, conn *shopperclient.Conn, ok func(map[string]any) bool) map[string]any {
	t.Helper()
	for {
		m := expectMessage(t, ctx, conn, "state")
		var raw map[string]any
		if err := json.Unmarshal(m.Raw, &raw); err != nil {
			t.Fatal(err)
		}
		if ok(raw) {
			return raw
		}
	}
}

func TestEditingAScheduledSaleChangesBothSidesTellsItsShoppersAndIsAudited(t *testing.T) {
	sys := startSystem(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	start := time.Now().Add(2 * time.Hour).UTC().Truncate(time.Second)
	saleID := sys.createSale(t, map[string]any{"sku": "E-1", "name": "Before", "stock": 5, "price_cents": 1000,
		"starts_at": start, "ends_at": start.Add(time.Hour)})
	shopper, _ := connectNew(t, ctx, sys.URL, saleID)
	expectMessage(t, ctx, shopper, "welcome")

	later := start.Add(time.Hour)
	var plan waitingroom.Plan
	body := map[string]any{"name": "After", "price_cents": 1250, "stock": 7, "starts_at": later,
		"ends_at": later.Add(2 * time.Hour), "per_shopper_limit": 2}
	if status := sys.call(t, http.MethodPatch, "/v1/admin/sales/"+saleID, sys.AdminToken, body, &plan); status != http.StatusOK {
		t.Fatalf("edit a scheduled sale: %d", status)
	}
	want := planRow{Name: "After", SKU: "E-1", Price: 1250, Stock: 7, StartsAt: later, EndsAt: later.Add(2 * time.Hour),
		Prequeue: 900, Limit: 2}
	if got := sys.planRow(t, saleID); got != want {
		t.Errorf("postgres keeps %+v, want %+v", got, want)
	}
	meta := sys.Redis.HGetAll(ctx, waitingroom.Keys(saleID).Meta).Val()
	for field, v := range map[string]string{"name": "After", "price_cents": "1250", "stock": "7", "available": "7",
		"limit": "2", "starts_at_ms": itoa(later.UnixMilli()), "prequeue_at_ms": itoa(later.Add(-900 * time.Second).UnixMilli()),
		"state": "scheduled"} {
		if meta[field] != v {
			t.Errorf("redis's %s is %q, want %q", field, meta[field], v)
		}
	}
	pushed := nextState(t, ctx, shopper, func(m map[string]any) bool { return m["sale"] != nil })
	if msg, ok := pushed["message"]; !ok || msg != "" {
		t.Errorf("the plan's push carries message %v (present: %t), want the one shown, none", msg, ok)
	}
	sale := pushed["sale"].(map[string]any)
	if sale["starts_at"] != later.Format(time.RFC3339) || sale["name"] != "After" || sale["price_cents"] != 1250.0 {
		t.Errorf("the shopper was told %v, want the new start %s, name and price", sale, later.Format(time.RFC3339))
	}
	var detail struct{ Before, After map[string]any }
	if err := sys.DB.Get(&jsonScan{&detail}, `SELECT detail FROM admin_actions WHERE sale_id = $1 AND action = 'edit'`, saleID); err != nil {
		t.Fatalf("no audit row of the edit: %v", err)
	}
	if detail.Before["name"] != "Before" || detail.After["name"] != "After" || detail.Before["stock"] != 5.0 ||
		detail.After["stock"] != 7.0 || detail.Before["sku"] != nil {
		t.Errorf("the audit row says %+v, want the changed fields only, before and after", detail)
	}
	sys.reconciled(t, ctx, saleID)
}

// jsonScan scans a jsonb column into v.
type jsonScan struct{ v any }

func (j *jsonScan) Scan(src any) error {
	b, _ := src.([]byte)
	return json.Unmarshal(b, j.v)
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

func TestAnOpenSaleCannotBeEditedOrDeletedAndNothingChanges(t *testing.T) {
	sys := startSystem(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	saleID := sys.createSale(t, map[string]any{"sku": "E-2", "name": "Open", "stock": 5})
	before, row, keys := sys.snapshot(t, saleID), sys.planRow(t, saleID), sys.saleKeys(t, saleID)
	audits := sys.count(t, `SELECT count(*) FROM admin_actions`)

	base := "/v1/admin/sales/" + saleID
	sys.expect(t, http.MethodPatch, base, map[string]any{"price_cents": 1}, http.StatusConflict, "sale_opened")
	sys.expect(t, http.MethodPatch, base, map[string]any{"starts_at": time.Now().Add(time.Hour)}, http.StatusConflict, "sale_opened")
	sys.expect(t, http.MethodDelete, base, nil, http.StatusConflict, "sale_opened")

	sys.assertUnchanged(t, saleID, before, "a refused edit or delete")
	if got := sys.planRow(t, saleID); got != row {
		t.Errorf("postgres changed: %+v -> %+v", row, got)
	}
	if got := sys.saleKeys(t, saleID); !slices.Equal(got, keys) {
		t.Errorf("redis's keys changed: %v -> %v", keys, got)
	}
	if n := sys.count(t, `SELECT count(*) FROM admin_actions`); n != audits {
		t.Errorf("a refused edit or delete left %d audit rows", n-audits)
	}
	sys.reconciled(t, ctx, saleID)
}

func TestADeletedSaleIsGoneEverywhereAndItsPrequeueIsTold(t *testing.T) {
	sys := startSystem(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	start := time.Now().Add(10 * time.Minute)
	saleID := sys.createSale(t, map[string]any{"sku": "E-3", "name": "Doomed", "stock": 5, "starts_at": start,
		"prequeue_seconds": 900})
	shopper := waiting(t, ctx, sys, saleID)
	expectMessage(t, ctx, shopper, "prequeue")
	// Its prequeue has opened and holds a shopper: it cannot close again.
	sys.expect(t, http.MethodPatch, "/v1/admin/sales/"+saleID, map[string]any{"prequeue_seconds": 0}, http.StatusConflict, "bad_state")

	sys.admin(t, http.MethodDelete, "/v1/admin/sales/"+saleID, nil, http.StatusOK)
	// Told it ended, then let go as from a sale that does not exist.
	if code := expectClose(t, ctx, shopper); code != wire.CloseSaleNotFound {
		t.Errorf("the shopper's socket closed with %d, want %d", code, wire.CloseSaleNotFound)
	}
	if n := sys.count(t, `SELECT count(*) FROM sales WHERE id = $1`, saleID); n != 0 {
		t.Error("the sale is still in postgres")
	}
	if n := sys.count(t, `SELECT count(*) FROM admin_actions WHERE sale_id = $1 AND action = 'delete'`, saleID); n != 1 {
		t.Errorf("%d audit rows of the delete, want 1", n)
	}
	// The event stream alone stays a while, for nodes to read the news;
	// besides it, only what the shopper's departure wrote since.
	k := waitingroom.Keys(saleID)
	for _, key := range sys.saleKeys(t, saleID) {
		if key != k.Events && key != k.Away && key != k.Present && !strings.HasPrefix(key, k.Conns("")) {
			t.Errorf("redis keeps %s of the deleted sale", key)
		}
	}
	if sys.Redis.Exists(ctx, k.Meta, k.Pre, k.Queue, k.Presort).Val() != 0 {
		t.Error("the deleted sale's plan or prequeue is still in redis")
	}
	if ttl := sys.Redis.PTTL(ctx, waitingroom.Keys(saleID).Events).Val(); ttl <= 0 {
		t.Errorf("the deleted sale's event stream lives forever (%v)", ttl)
	}
	if sys.Redis.SIsMember(ctx, waitingroom.ActiveSales, saleID).Val() {
		t.Error("the deleted sale is still on the active list")
	}
	sys.expect(t, http.MethodGet, "/v1/admin/sales/"+saleID, nil, http.StatusNotFound, "sale_not_found")
	sys.expect(t, http.MethodDelete, "/v1/admin/sales/"+saleID, nil, http.StatusNotFound, "sale_not_found")
	sys.expect(t, http.MethodPatch, "/v1/admin/sales/"+saleID, map[string]any{"stock": 2}, http.StatusNotFound, "sale_not_found")

	// A delete whose Postgres side failed after Redis let the sale go heals
	// when sent again: a sale Redis lacks goes from Postgres while its start
	// is ahead (here, its keys taken away by hand).
	half := sys.createSale(t, map[string]any{"sku": "E-3b", "name": "Half gone", "stock": 5, "starts_at": start})
	sys.Redis.Del(ctx, waitingroom.Keys(half).Meta)
	sys.admin(t, http.MethodDelete, "/v1/admin/sales/"+half, nil, http.StatusOK)
	if n := sys.count(t, `SELECT count(*) FROM sales WHERE id = $1`, half); n != 0 {
		t.Error("a sale redis had let go stays in postgres after a second delete")
	}
}

// An edit racing the admitter's tick that opens the sale lands wholly before
// the opening or is refused after it: the two sides agree at the end, and
// the last edit that was accepted is what both keep.
func TestAnEditRacingTheOpeningLandsBeforeItOrIsRefused(t *testing.T) {
	sys := startSystem(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	saleID := sys.createSale(t, map[string]any{"sku": "E-4", "name": "Race", "stock": 5,
		"starts_at": time.Now().Add(time.Second), "prequeue_seconds": 0})
	var accepted int64
	for price := int64(1); ctx.Err() == nil; price++ {
		var out struct{ Error struct{ Code string } }
		status := sys.call(t, http.MethodPatch, "/v1/admin/sales/"+saleID, sys.AdminToken, map[string]any{"price_cents": price}, &out)
		if status == http.StatusOK {
			accepted = price
			continue
		}
		if status != http.StatusConflict || out.Error.Code != "sale_opened" {
			t.Fatalf("an edit at the opening: %d %s", status, out.Error.Code)
		}
		break
	}
	if accepted == 0 {
		t.Fatal("no edit landed before the opening")
	}
	if got := sys.planRow(t, saleID).Price; got != accepted {
		t.Errorf("postgres's price is %d, want the last accepted edit's %d", got, accepted)
	}
	if got := sys.Redis.HGet(ctx, waitingroom.Keys(saleID).Meta, "price_cents").Val(); got != itoa(accepted) {
		t.Errorf("redis's price is %s, want %d", got, accepted)
	}
	if n := sys.count(t, `SELECT count(*) FROM admin_actions WHERE sale_id = $1 AND action = 'edit'`, saleID); int64(n) != accepted {
		t.Errorf("%d edits audited, want %d", n, accepted)
	}
	sys.reconciled(t, ctx, saleID)
}

func TestBadEditsAndMessagesAreRefusedAndChangeNothing(t *testing.T) {
	sys := startSystem(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	start := time.Now().Add(2 * time.Hour)
	saleID := sys.createSale(t, map[string]any{"sku": "E-5", "name": "Bounds", "stock": 5, "starts_at": start})
	before, row, keys := sys.snapshot(t, saleID), sys.planRow(t, saleID), sys.saleKeys(t, saleID)
	audits := sys.count(t, `SELECT count(*) FROM admin_actions`)

	base := "/v1/admin/sales/" + saleID
	for _, bad := range []struct {
		body   any
		status int
		code   string
	}{
		{map[string]any{"identity": "required"}, http.StatusBadRequest, "bad_request"}, // not editable
		{map[string]any{"colour": "red"}, http.StatusBadRequest, "bad_request"},
		{"not an object", http.StatusBadRequest, "bad_request"},
		{map[string]any{}, http.StatusUnprocessableEntity, "invalid_sale"},
		{map[string]any{"stock": 0}, http.StatusUnprocessableEntity, "invalid_sale"},
		{map[string]any{"per_shopper_limit": 11}, http.StatusUnprocessableEntity, "invalid_sale"},
		{map[string]any{"ends_at": start.Add(-time.Minute)}, http.StatusUnprocessableEntity, "invalid_sale"},
		{map[string]any{"name": "Bad\x00name"}, http.StatusUnprocessableEntity, "invalid_sale"},
		{map[string]any{"price_cents": -1}, http.StatusUnprocessableEntity, "invalid_sale"},
	} {
		sys.expect(t, http.MethodPatch, base, bad.body, bad.status, bad.code)
	}
	for _, bad := range []map[string]any{
		{"text": "Too late", "at": time.Now().Add(-time.Minute)},
		{"text": "After the end", "at": start.Add(2 * time.Hour)},
		{"text": " ", "at": time.Now().Add(time.Minute)},
		{"text": "Bad\nline", "at": time.Now().Add(time.Minute)},
	} {
		sys.expect(t, http.MethodPost, base+"/messages", bad, http.StatusUnprocessableEntity, "invalid_sale")
	}
	sys.expect(t, http.MethodDelete, base+"/messages/m_nosuchmsg", nil, http.StatusNotFound, "message_unknown")
	sys.expect(t, http.MethodPatch, "/v1/admin/sales/s_nosuchsale", map[string]any{"stock": 2}, http.StatusNotFound, "sale_not_found")

	sys.assertUnchanged(t, saleID, before, "a bad edit")
	if got := sys.planRow(t, saleID); got != row {
		t.Errorf("postgres changed: %+v -> %+v", row, got)
	}
	if got := sys.saleKeys(t, saleID); !slices.Equal(got, keys) {
		t.Errorf("redis's keys changed: %v -> %v", keys, got)
	}
	if n := sys.count(t, `SELECT count(*) FROM admin_actions`); n != audits {
		t.Errorf("bad requests left %d audit rows", n-audits)
	}
	// At most MaxScheduledMessages wait at once.
	for i := range waitingroom.MaxScheduledMessages {
		sys.admin(t, http.MethodPost, base+"/messages", map[string]any{"text": "Soon", "at": time.Now().Add(time.Duration(i+1) * time.Minute)},
			http.StatusCreated)
	}
	sys.expect(t, http.MethodPost, base+"/messages", map[string]any{"text": "One too many", "at": time.Now().Add(time.Hour)},
		http.StatusUnprocessableEntity, "invalid_sale")
	_ = ctx
}

func TestAClearedMessageIsToldAsEmptyAndWelcomesNoOne(t *testing.T) {
	sys := startSystem(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	saleID := sys.createSale(t, map[string]any{"sku": "E-6", "name": "Quiet", "stock": 5})
	shopper, _ := connectNew(t, ctx, sys.URL, saleID)
	expectMessage(t, ctx, shopper, "welcome")
	base := "/v1/admin/sales/" + saleID

	sys.admin(t, http.MethodPost, base+"/messages", map[string]any{"text": "The queue is paused"}, http.StatusOK)
	nextState(t, ctx, shopper, func(m map[string]any) bool { return m["message"] == "The queue is paused" })
	sys.admin(t, http.MethodPost, base+"/messages", map[string]any{"text": ""}, http.StatusOK)
	cleared := nextState(t, ctx, shopper, func(m map[string]any) bool { _, ok := m["message"]; return ok })
	if cleared["message"] != "" {
		t.Errorf("after a clear the shopper was told %v, want an empty message", cleared)
	}
	sys.noMessage(t, saleID, "a cleared message")
	late, _ := connectNew(t, ctx, sys.URL, saleID)
	if w := expectMessage(t, ctx, late, "welcome"); strings.Contains(string(w.Raw), "The queue is paused") {
		t.Errorf("a shopper arriving after the clear is welcomed with the old message: %s", w.Raw)
	}
	// DELETE clears too, and both are audited.
	sys.admin(t, http.MethodPost, base+"/messages", map[string]any{"text": "Again"}, http.StatusOK)
	sys.admin(t, http.MethodDelete, base+"/messages", nil, http.StatusOK)
	sys.noMessage(t, saleID, "a deleted message")
	if n := sys.count(t, `SELECT count(*) FROM admin_actions WHERE sale_id = $1 AND action = 'message' AND detail->>'cleared' = 'true'`, saleID); n != 2 {
		t.Errorf("%d clears audited, want 2", n)
	}
}

func TestAScheduledMessageIsShownAtItsTimeAndOneCancelledNever(t *testing.T) {
	sys := startSystem(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	saleID := sys.createSale(t, map[string]any{"sku": "E-7", "name": "Later", "stock": 5})
	shopper, _ := connectNew(t, ctx, sys.URL, saleID)
	expectMessage(t, ctx, shopper, "welcome")
	base := "/v1/admin/sales/" + saleID

	var cancelled struct{ Scheduled waitingroom.ScheduledMessage }
	if status := sys.call(t, http.MethodPost, base+"/messages", sys.AdminToken,
		map[string]any{"text": "Never shown", "at": time.Now().Add(300 * time.Millisecond)}, &cancelled); status != http.StatusCreated {
		t.Fatalf("schedule a message: %d", status)
	}
	sys.admin(t, http.MethodDelete, base+"/messages/"+cancelled.Scheduled.ID, nil, http.StatusOK)
	sys.admin(t, http.MethodPost, base+"/messages", map[string]any{"text": "Doors open soon", "at": time.Now().Add(600 * time.Millisecond)},
		http.StatusCreated)
	var list struct {
		Message   string
		Scheduled []waitingroom.ScheduledMessage
	}
	sys.call(t, http.MethodGet, base+"/messages", sys.AdminToken, nil, &list)
	if len(list.Scheduled) != 1 || list.Scheduled[0].Text != "Doors open soon" {
		t.Fatalf("scheduled: %+v, want the one not cancelled", list.Scheduled)
	}

	shown := nextState(t, ctx, shopper, func(m map[string]any) bool { _, ok := m["message"]; return ok })
	if shown["message"] != "Doors open soon" {
		t.Errorf("the first message shown is %v, want the scheduled one (the cancelled one never)", shown["message"])
	}
	sys.call(t, http.MethodGet, base+"/messages", sys.AdminToken, nil, &list)
	if list.Message != "Doors open soon" || len(list.Scheduled) != 0 {
		t.Errorf("after its time: %+v, want it shown and no longer scheduled", list)
	}
	for _, action := range []string{"message_scheduled", "message_cancelled"} {
		if n := sys.count(t, `SELECT count(*) FROM admin_actions WHERE sale_id = $1 AND action = $2`, saleID, action); n < 1 {
			t.Errorf("no %s in the audit log", action)
		}
	}
}
