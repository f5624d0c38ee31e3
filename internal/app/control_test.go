package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/foyerhq/foyer/internal/shopperclient"
	"github.com/foyerhq/foyer/waitingroom"
)

// waiting connects a shopper to a sale and joins it.
func waiting(t *testing.T, ctx context.Context, sys *system, saleID string) *shopperclient.Conn {
	t.Helper()
	conn, _ := connectNew(t, ctx, sys.URL, saleID)
	expectMessage(t, ctx, conn, "welcome")
	if err := conn.Join(ctx); err != nil {
		t.Fatal(err)
	}
	return conn
}

func (s *system) admin(t *testing.T, method, path string, body any, wantStatus int) {
	t.Helper()
	var out struct{ Error struct{ Code string } }
	if status := s.call(t, method, path, s.AdminToken, body, &out); status != wantStatus {
		t.Fatalf("%s %s: %d %s, want %d", method, path, status, out.Error.Code, wantStatus)
	}
}

// startOncePrequeued waits until n shoppers are in each sale's prequeue,
// then moves each sale's start to a second away: for a test whose shoppers
// must all be in before the sale opens, however slow the host is to join
// them (a start a second off was passed before some had joined, and they
// found the sale sold out).
func (s *system) startOncePrequeued(t *testing.T, ctx context.Context, n int64, saleIDs ...string) {
	t.Helper()
	for _, id := range saleIDs {
		pre := waitingroom.Keys(id).Pre
		for got, _ := s.Redis.ZCard(ctx, pre).Result(); got < n; got, _ = s.Redis.ZCard(ctx, pre).Result() {
			if ctx.Err() != nil {
				t.Fatalf("only %d of %d shoppers joined the prequeue of sale %s", got, n, id)
			}
			time.Sleep(5 * time.Millisecond) // polling a condition; the deadline is ctx's
		}
	}
	for _, id := range saleIDs {
		s.admin(t, http.MethodPatch, "/v1/admin/sales/"+id, map[string]any{"starts_at": startsIn(time.Second)}, http.StatusOK)
	}
}

// TestPauseStopsAdmissionAndResumeRestartsIt checks the order a shopper hears
// things in: paused, then (after resume) open, and only then admitted. Had
// anyone been admitted while paused, "admitted" would come before "open".
func TestPauseStopsAdmissionAndResumeRestartsIt(t *testing.T) {
	sys := startSystem(t)
	saleID := sys.createSale(t, map[string]any{"sku": "C-1", "name": "Control", "stock": 10, "outflow_per_second": 100})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	first := waiting(t, ctx, sys, saleID)
	expectMessage(t, ctx, first, "admitted")

	base := "/v1/admin/sales/" + saleID
	sys.admin(t, http.MethodPost, base+"/pause", nil, http.StatusOK)
	second := waiting(t, ctx, sys, saleID)
	if m := expectMessage(t, ctx, first, "state"); m.State != "paused" {
		t.Fatalf("first shopper heard state %q, want paused", m.State)
	}
	expectMessage(t, ctx, second, "position")
	sys.admin(t, http.MethodPost, base+"/resume", nil, http.StatusOK)
	for {
		m, err := second.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if m.Type == "admitted" {
			t.Fatal("admitted before hearing that the sale reopened: admission ran while paused")
		}
		if m.Type == "state" && m.State == "open" {
			break
		}
	}
	expectMessage(t, ctx, second, "admitted")

	var body struct{ Error struct{ Code string } }
	if status := sys.call(t, http.MethodPost, base+"/resume", sys.AdminToken, nil, &body); status != http.StatusConflict || body.Error.Code != "bad_state" {
		t.Errorf("resume an open sale: %d %q, want 409 bad_state", status, body.Error.Code)
	}
}

func TestAddingStockReopensASoldOutSaleForThoseStillWaiting(t *testing.T) {
	sys := startSystem(t)
	saleID := sys.createSale(t, map[string]any{"sku": "C-2", "name": "Restock", "stock": 1, "outflow_per_second": 100})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	buyer := waiting(t, ctx, sys, saleID)
	admitted := expectMessage(t, ctx, buyer, "admitted")
	other := waiting(t, ctx, sys, saleID)
	expectMessage(t, ctx, other, "position")
	if _, err := shopperclient.New(sys.URL).Checkout(ctx, admitted.CheckoutURL, admitted.Token); err != nil {
		t.Fatal(err)
	}
	expectMessage(t, ctx, other, "sold_out")

	sys.admin(t, http.MethodPost, "/v1/admin/sales/"+saleID+"/stock", map[string]any{"add": 1}, http.StatusOK)
	// The change is announced on the sale's event stream, so every node
	// pushes it at once rather than at its next counters tick.
	last, err := sys.Redis.XRevRangeN(ctx, waitingroom.Keys(saleID).Events, "+", "-", 5).Result()
	if err != nil {
		t.Fatal(err)
	}
	announced := false
	for _, m := range last {
		var totals struct{ Stock, Available int64 }
		data, _ := m.Values["data"].(string)
		if m.Values["type"] == "stock" && json.Unmarshal([]byte(data), &totals) == nil {
			announced = announced || (totals.Stock == 2 && totals.Available == 1)
		}
	}
	if !announced {
		t.Errorf("no stock event with the new totals among the latest events %v", last)
	}
	// The stock event comes before the admission it allows, so its push
	// does too.
	sawStock := false
	for {
		m, err := other.Next(ctx)
		if err != nil {
			t.Fatalf("waiting for admitted: %v", err)
		}
		sawStock = sawStock || (m.Type == "stock" && m.Total == 2)
		if m.Type == "admitted" {
			break
		}
	}
	if !sawStock {
		t.Error("admitted before hearing of the new stock")
	}
	var stock int
	if err := sys.DB.Get(&stock, `SELECT stock FROM sales WHERE id = $1`, saleID); err != nil || stock != 2 {
		t.Errorf("postgres stock %d (%v), want 2", stock, err)
	}
}

func TestOperatorMessagesReachEveryoneAndEveryActionIsAudited(t *testing.T) {
	sys := startSystem(t)
	saleID := sys.createSale(t, map[string]any{"sku": "C-3", "name": "Messages", "stock": 5,
		"starts_at": startsIn(time.Hour), "prequeue_seconds": 7200})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	a, b := waiting(t, ctx, sys, saleID), waiting(t, ctx, sys, saleID)
	base := "/v1/admin/sales/" + saleID
	sys.admin(t, http.MethodPost, base+"/messages", map[string]any{"text": "Doors open at nine sharp"}, http.StatusOK)
	for _, conn := range []*shopperclient.Conn{a, b} {
		for {
			m := expectMessage(t, ctx, conn, "state")
			if m.Message == "Doors open at nine sharp" {
				break
			}
		}
	}
	late, _ := connectNew(t, ctx, sys.URL, saleID)
	welcome := expectMessage(t, ctx, late, "welcome")
	var sale struct {
		Sale struct{ Message string } `json:"sale"`
	}
	if json.Unmarshal(welcome.Raw, &sale); sale.Sale.Message != "Doors open at nine sharp" {
		t.Errorf("a shopper arriving later is welcomed with message %q", sale.Sale.Message)
	}
	sys.admin(t, http.MethodPut, base+"/rate", map[string]any{"outflow_per_second": 0}, http.StatusUnprocessableEntity)
	sys.admin(t, http.MethodPut, base+"/rate", map[string]any{"outflow_per_second": 42}, http.StatusOK)
	sys.admin(t, http.MethodPost, base+"/messages", map[string]any{"text": strings.Repeat("ü", 501)}, http.StatusUnprocessableEntity)
	sys.admin(t, http.MethodPost, base+"/stop", nil, http.StatusOK)
	if m := expectMessage(t, ctx, a, "state"); m.State != "ended" {
		t.Errorf("state after stop: %q, want ended", m.State)
	}
	var rate float64
	if err := sys.DB.Get(&rate, `SELECT outflow_per_second FROM sales WHERE id = $1`, saleID); err != nil || rate != 42 {
		t.Errorf("postgres rate %v (%v), want 42", rate, err)
	}
	var audit struct {
		Entries []struct{ Action, Actor string }
	}
	sys.call(t, http.MethodGet, "/v1/admin/audit", sys.AdminToken, nil, &audit)
	var actions []string
	for _, e := range audit.Entries {
		actions = append(actions, e.Action)
	}
	want := []string{"stop", "rate", "message", "create"}
	if len(actions) != len(want) {
		t.Fatalf("audit log %v, want %v (refused actions are not applied, so not logged)", actions, want)
	}
	for i := range want {
		if actions[i] != want[i] {
			t.Fatalf("audit log %v, want %v", actions, want)
		}
	}
}

func TestWaitingShoppersHearAnETAAndThatTheLastUnitsAreHeld(t *testing.T) {
	sys := startSystem(t)
	saleID := sys.createSale(t, map[string]any{"sku": "C-4", "name": "Held", "stock": 1, "outflow_per_second": 50})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	first := listen(waiting(t, ctx, sys, saleID))
	if _, err := first.wait(ctx, "admitted"); err != nil {
		t.Fatal(err)
	}
	second := listen(waiting(t, ctx, sys, saleID))
	pos, err := second.wait(ctx, "position")
	if err != nil {
		t.Fatal(err)
	}
	var eta struct {
		ETA *struct {
			Min int64 `json:"min_seconds"`
			Max int64 `json:"max_seconds"`
		} `json:"eta"`
	}
	if err := json.Unmarshal(pos.Raw, &eta); err != nil || eta.ETA == nil || eta.ETA.Max < eta.ETA.Min {
		t.Errorf("position %s has no sane eta (%v)", pos.Raw, err)
	}
	for {
		m, err := second.next(ctx, "stock")
		if err != nil {
			t.Fatal(err)
		}
		var held struct {
			AllHeld bool `json:"all_held"`
		}
		json.Unmarshal(m.Raw, &held)
		if held.AllHeld {
			break
		}
	}
}

// TestAnOperatorActionReachesShoppersOnEveryNodeWithinASecond pauses a sale
// with shoppers on three nodes and measures how long each waits to hear it.
func TestAnOperatorActionReachesShoppersOnEveryNodeWithinASecond(t *testing.T) {
	sys := startNodes(t, 3, nil)
	saleID := sys.createSale(t, map[string]any{"sku": "C-5", "name": "Everywhere", "stock": 5,
		"outflow_per_second": stalled})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var inboxes []*inbox
	for i := range 9 {
		conn, _ := connectNew(t, ctx, sys.URLs[i%3], saleID)
		in := listen(conn)
		if _, err := in.wait(ctx, "welcome"); err != nil {
			t.Fatal(err)
		}
		inboxes = append(inboxes, in)
	}
	sent := time.Now()
	sys.admin(t, http.MethodPost, "/v1/admin/sales/"+saleID+"/pause", nil, http.StatusOK)
	var slowest time.Duration
	for i, in := range inboxes {
		for {
			m, err := in.next(ctx, "state")
			if err != nil {
				t.Fatal(err)
			}
			if m.State == "paused" {
				break
			}
		}
		took := time.Since(sent)
		slowest = max(slowest, took)
		if took > time.Second {
			t.Errorf("shopper %d on node %d heard the pause after %v", i, i%3+1, took)
		}
	}
	t.Logf("all 9 shoppers on 3 nodes heard the pause within %v of the request", slowest)
}
