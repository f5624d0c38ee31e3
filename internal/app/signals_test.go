package app_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/foyerhq/foyer/internal/shopperclient"
	"github.com/foyerhq/foyer/waitingroom"
)

// flagReport is GET /v1/admin/sales/{id}/flags.
type flagReport struct {
	Policy   string `json:"policy"`
	Flagged  int    `json:"flagged"`
	Shoppers []struct {
		Shopper string    `json:"shopper"`
		Signals []string  `json:"signals"`
		IP      string    `json:"ip"`
		FirstAt time.Time `json:"first_at"`
	} `json:"shoppers"`
	Truncated bool `json:"truncated"`
}

func (s *system) flags(t *testing.T, saleID string) flagReport {
	t.Helper()
	var rep flagReport
	if status := s.call(t, http.MethodGet, "/v1/admin/sales/"+saleID+"/flags", s.AdminToken, nil, &rep); status != http.StatusOK {
		t.Fatalf("GET flags of %s: status %d", saleID, status)
	}
	return rep
}

// signalsOf are the signals recorded against a shopper (nil: not flagged).
func (r flagReport) signalsOf(shopper string) []string {
	for _, f := range r.Shoppers {
		if f.Shopper == shopper {
			return f.Signals
		}
	}
	return nil
}

// waitOpen waits until the sale's admitter has opened it.
func (s *system) waitOpen(t *testing.T, ctx context.Context, saleID string) {
	t.Helper()
	for {
		var sale struct{ State string }
		s.call(t, http.MethodGet, "/v1/sales/"+saleID, "", nil, &sale)
		if sale.State == "open" {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("sale %s never opened (state %q)", saleID, sale.State)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// sessionsFrom makes n sessions from one loopback address.
func sessionsFrom(t *testing.T, ctx context.Context, client *shopperclient.Client, n int) []shopperclient.Session {
	t.Helper()
	var sessions []shopperclient.Session
	for range n {
		sess, err := client.NewSession(ctx)
		if err != nil {
			t.Fatal(err)
		}
		sessions = append(sessions, sess)
	}
	return sessions
}

// joinedOn connects a session to a sale on a node, joins, and waits for its
// first position.
func joinedOn(t *testing.T, ctx context.Context, client *shopperclient.Client, sess shopperclient.Session, saleID string, want int64) *inbox {
	t.Helper()
	conn, err := client.Connect(ctx, saleID, sess)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.CloseNow() })
	in := listen(conn)
	if _, err := in.wait(ctx, "welcome"); err != nil {
		t.Fatal(err)
	}
	if err := conn.Join(ctx); err != nil {
		t.Fatal(err)
	}
	waitPosition(t, ctx, in, want)
	return in
}

// positionsSeen lists every position pushed to an inbox so far.
func (in *inbox) positionsSeen() []int64 {
	in.mu.Lock()
	defer in.mu.Unlock()
	var seen []int64
	for _, m := range in.msgs {
		if m.Type == "position" {
			seen = append(seen, m.Position)
		}
	}
	return seen
}

func TestAJoinRightAtTheStartIsFlaggedEarlyJoinAndALaterOneIsNot(t *testing.T) {
	sys := startNodes(t, 1, map[string]string{"FOYER_SIGNAL_EARLY_JOIN": "5s"})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	atStart := sys.createSale(t, map[string]any{"sku": "F-1", "name": "At the start", "stock": 5, "outflow_per_second": stalled})
	later := sys.createSale(t, map[string]any{"sku": "F-2", "name": "Started a while ago", "stock": 5,
		"outflow_per_second": stalled, "starts_at": startsIn(-time.Minute)})
	sys.waitOpen(t, ctx, atStart)
	sys.waitOpen(t, ctx, later)

	early, _ := connectNew(t, ctx, sys.URL, atStart)
	expectMessage(t, ctx, early, "welcome")
	early.Join(ctx)
	expectMessage(t, ctx, early, "position")
	late, lateSess := connectNew(t, ctx, sys.URL, later)
	expectMessage(t, ctx, late, "welcome")
	late.Join(ctx)
	expectMessage(t, ctx, late, "position")

	rep := sys.flags(t, atStart)
	if rep.Policy != "allow" || rep.Flagged != 1 || !slices.Equal(rep.Shoppers[0].Signals, []string{"early_join"}) ||
		rep.Shoppers[0].IP != "127.0.0.1" || time.Since(rep.Shoppers[0].FirstAt) > time.Minute {
		t.Errorf("flags of the sale joined at its start: %+v, want one shopper flagged early_join from 127.0.0.1", rep)
	}
	if rep := sys.flags(t, later); rep.Flagged != 0 || len(rep.Shoppers) != 0 || rep.signalsOf(lateSess.ShopperID) != nil {
		t.Errorf("flags of the sale joined a minute after its start: %+v, want none", rep)
	}
	// Under allow, a flag only records: the shopper keeps its place.
	if n := sys.Redis.ZCard(ctx, waitingroom.Keys(atStart).Queue).Val(); n != 1 {
		t.Errorf("%d in the queue, want the flagged shopper still there", n)
	}
}

func TestACheckoutRightAfterAdmissionIsFlaggedFastCheckout(t *testing.T) {
	sys := startNodes(t, 1, map[string]string{"FOYER_SIGNAL_FAST_CHECKOUT": "1m", "FOYER_SIGNAL_EARLY_JOIN": "0"})
	saleID := sys.createSale(t, map[string]any{"sku": "F-3", "name": "Fast", "stock": 2, "outflow_per_second": 100})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admitted, _ := admitOne(t, ctx, sys, saleID)
	if rep := sys.flags(t, saleID); rep.Flagged != 0 {
		t.Fatalf("flags before any checkout: %+v, want none (early_join is off)", rep)
	}
	if _, err := shopperclient.New(sys.URL).Checkout(ctx, admitted.CheckoutURL, admitted.Token); err != nil {
		t.Fatal(err)
	}
	rep := sys.flags(t, saleID)
	if rep.Flagged != 1 || !slices.Equal(rep.Shoppers[0].Signals, []string{"fast_checkout"}) {
		t.Errorf("flags after a checkout right after admission: %+v, want the buyer flagged fast_checkout", rep)
	}
}

func TestManySessionsFromOneAddressFlagItsShoppersWhenTheyJoin(t *testing.T) {
	sys := startNodes(t, 1, map[string]string{"FOYER_SIGNAL_SESSIONS_PER_IP": "3", "FOYER_SIGNAL_EARLY_JOIN": "0"})
	saleID := sys.createSale(t, map[string]any{"sku": "F-4", "name": "Farm", "stock": 5, "outflow_per_second": stalled})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	farm := shopperclient.NewWithTransport(sys.URL, transportFrom("127.0.0.7"))
	home := shopperclient.NewWithTransport(sys.URL, transportFrom("127.0.0.8"))
	farmed := sessionsFrom(t, ctx, farm, 4)
	honest := sessionsFrom(t, ctx, home, 1)[0]
	joinedOn(t, ctx, farm, farmed[0], saleID, 1) // the address's first session: not flagged
	joinedOn(t, ctx, farm, farmed[3], saleID, 2) // its fourth, past the threshold of 3
	joinedOn(t, ctx, home, honest, saleID, 3)

	rep := sys.flags(t, saleID)
	if rep.Flagged != 1 || !slices.Equal(rep.signalsOf(farmed[3].ShopperID), []string{"many_identities"}) ||
		rep.Shoppers[0].IP != "127.0.0.7" {
		t.Errorf("flags: %+v, want the fourth session of 127.0.0.7 flagged many_identities, and no one else", rep)
	}
}

// honestShopper makes a session from an address of its own, so that it is
// never one of many identities.
func honestShopper(t *testing.T, ctx context.Context, sys *system, n int) shopperclient.Session {
	t.Helper()
	return sessionsFrom(t, ctx, shopperclient.NewWithTransport(sys.URL, transportFrom(fmt.Sprintf("127.0.2.%d", n))), 1)[0]
}

// busyAddress returns a client on an address that has already made more
// sessions than the threshold of 3 (set by the test), and one session of it
// that is flagged many_identities once it joins.
func busyAddress(t *testing.T, ctx context.Context, sys *system, ip string) (*shopperclient.Client, shopperclient.Session) {
	t.Helper()
	busy := shopperclient.NewWithTransport(sys.URL, transportFrom(ip))
	return busy, sessionsFrom(t, ctx, busy, 4)[3]
}

func TestUnderBackAFlaggedShopperGoesBehindEveryoneAndEveryNodeAgrees(t *testing.T) {
	sys := startNodes(t, 3, map[string]string{"FOYER_SIGNAL_SESSIONS_PER_IP": "3", "FOYER_SIGNAL_EARLY_JOIN": "0"})
	saleID := sys.createSale(t, map[string]any{"sku": "F-5", "name": "Back", "stock": 5, "outflow_per_second": stalled})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	on := func(node int) *shopperclient.Client { return shopperclient.New(sys.URLs[node]) }
	busy, flagged := busyAddress(t, ctx, sys, "127.0.0.9")
	a := joinedOn(t, ctx, on(0), honestShopper(t, ctx, sys, 1), saleID, 1)
	b := joinedOn(t, ctx, on(1), honestShopper(t, ctx, sys, 2), saleID, 2)
	// Flagged as it joins, but the sale only records until the operator
	// says otherwise: it keeps its place.
	x := joinedOn(t, ctx, busy, flagged, saleID, 3)   // on the first node
	xConn, err := on(1).Connect(ctx, saleID, flagged) // a second tab, on another node
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { xConn.CloseNow() })
	x2 := listen(xConn)
	waitPosition(t, ctx, x2, 3)
	c := joinedOn(t, ctx, on(2), honestShopper(t, ctx, sys, 3), saleID, 4)
	d := joinedOn(t, ctx, on(2), honestShopper(t, ctx, sys, 4), saleID, 5)

	sys.admin(t, http.MethodPut, "/v1/admin/sales/"+saleID+"/flagged", map[string]any{"policy": "back"}, http.StatusOK)
	// The flagged shopper is shown its new, higher position once, on both
	// of its tabs; those behind its old place move up by one.
	waitPosition(t, ctx, x, 5)
	waitPosition(t, ctx, x2, 5)
	waitPosition(t, ctx, c, 3)
	waitPosition(t, ctx, d, 4)
	queue := waitingroom.Keys(saleID).Queue
	if ticket := sys.Redis.ZScore(ctx, queue, flagged.ShopperID).Val(); ticket != 6 {
		t.Errorf("the flagged shopper holds ticket %v, want 6: the next of the sale's counter", ticket)
	}
	for name, in := range map[string]*inbox{"a": a, "b": b, "c": c, "d": d} {
		seen := in.positionsSeen()
		for i := 1; i < len(seen); i++ {
			if seen[i] > seen[i-1] {
				t.Errorf("%s was shown positions %v: one rose", name, seen)
			}
		}
	}
	if rep := sys.flags(t, saleID); rep.Policy != "back" || rep.Flagged != 1 || rep.signalsOf(flagged.ShopperID) == nil {
		t.Errorf("flags: %+v, want policy back and the busy address's shopper alone flagged", rep)
	}
	var audit struct{ Entries []struct{ Action string } }
	sys.call(t, http.MethodGet, "/v1/admin/audit", sys.AdminToken, nil, &audit)
	if len(audit.Entries) == 0 || audit.Entries[0].Action != "flagged_policy" {
		t.Errorf("audit log %+v, want the policy change first", audit.Entries)
	}
}

func TestUnderRemoveAFlaggedShopperIsToldLeavesTheQueueAndIsRefusedAfter(t *testing.T) {
	sys := startNodes(t, 2, map[string]string{"FOYER_SIGNAL_SESSIONS_PER_IP": "3", "FOYER_SIGNAL_EARLY_JOIN": "0"})
	saleID := sys.createSale(t, map[string]any{"sku": "F-6", "name": "Remove", "stock": 5, "outflow_per_second": stalled})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	busy, flagged := busyAddress(t, ctx, sys, "127.0.0.10")
	joinedOn(t, ctx, shopperclient.New(sys.URLs[0]), honestShopper(t, ctx, sys, 1), saleID, 1)
	xConn, err := busy.Connect(ctx, saleID, flagged)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { xConn.CloseNow() })
	x := listen(xConn)
	xConn.Join(ctx)
	waitPosition(t, ctx, x, 2)
	x2Conn, err := shopperclient.New(sys.URLs[1]).Connect(ctx, saleID, flagged) // a second tab, on another node
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { x2Conn.CloseNow() })
	x2 := listen(x2Conn)
	waitPosition(t, ctx, x2, 2)
	behind := joinedOn(t, ctx, shopperclient.New(sys.URLs[1]), honestShopper(t, ctx, sys, 2), saleID, 3)

	sys.admin(t, http.MethodPut, "/v1/admin/sales/"+saleID+"/flagged", map[string]any{"policy": "remove"}, http.StatusOK)
	for _, in := range []*inbox{x, x2} {
		m, err := in.next(ctx, "error")
		if err != nil || m.Code != "flagged" {
			t.Fatalf("a tab of the removed shopper heard %+v (%v), want the error flagged", m, err)
		}
	}
	waitPosition(t, ctx, behind, 2)
	queue := waitingroom.Keys(saleID).Queue
	if err := sys.Redis.ZScore(ctx, queue, flagged.ShopperID).Err(); !errors.Is(err, redis.Nil) {
		t.Errorf("the removed shopper's ticket: %v, want none", err)
	}
	// Joining again is refused, and changes nothing.
	before := sys.snapshot(t, saleID)
	xConn.Join(ctx)
	if m, err := x.next(ctx, "error"); err != nil || m.Code != "flagged" {
		t.Errorf("the removed shopper joins again: %+v (%v), want the error flagged", m, err)
	}
	sys.assertUnchanged(t, saleID, before, "a join refused as flagged")
	// A shopper flagged as it joins under remove is taken out at once.
	_, another := busyAddress(t, ctx, sys, "127.0.0.10")
	yConn, err := busy.Connect(ctx, saleID, another)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { yConn.CloseNow() })
	y := listen(yConn)
	yConn.Join(ctx)
	if m, err := y.waitAny(ctx, "error", "position"); err != nil || m.Type != "error" || m.Code != "flagged" {
		t.Errorf("a flagged shopper joins under remove: %+v (%v), want the error flagged and no position", m, err)
	}
	if err := sys.Redis.ZScore(ctx, queue, another.ShopperID).Err(); !errors.Is(err, redis.Nil) {
		t.Errorf("the shopper flagged as it joined: %v, want no ticket", err)
	}
	if rep := sys.flags(t, saleID); rep.Policy != "remove" || rep.Flagged != 2 {
		t.Errorf("flags: %+v, want policy remove and both flagged shoppers", rep)
	}
}

func TestABadFlaggedPolicyIsRefusedAndChangesNothing(t *testing.T) {
	sys := startSystem(t)
	saleID := sys.createSale(t, map[string]any{"sku": "F-7", "name": "Bad policy", "stock": 5, "outflow_per_second": stalled})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sys.waitOpen(t, ctx, saleID)
	expectMessage(t, ctx, waiting(t, ctx, sys, saleID), "position")
	before := sys.snapshot(t, saleID)
	path := "/v1/admin/sales/" + saleID + "/flagged"
	var body struct{ Error struct{ Code string } }
	for _, policy := range []any{"sideways", "", 3, "BACK"} {
		if status := sys.call(t, http.MethodPut, path, sys.AdminToken, map[string]any{"policy": policy}, &body); status == http.StatusOK {
			t.Errorf("policy %v: accepted", policy)
		}
	}
	if status := sys.call(t, http.MethodPut, path, sys.AdminToken, map[string]any{"policy": "sideways"}, &body); status != http.StatusUnprocessableEntity || body.Error.Code != "invalid_sale" {
		t.Errorf("policy sideways: %d %s, want 422 invalid_sale", status, body.Error.Code)
	}
	sys.admin(t, http.MethodPut, "/v1/admin/sales/s_nosuchsale/flagged", map[string]any{"policy": "back"}, http.StatusNotFound)
	sys.admin(t, http.MethodGet, "/v1/admin/sales/s_nosuchsale/flags", nil, http.StatusNotFound)
	if status := sys.call(t, http.MethodGet, "/v1/admin/sales/"+saleID+"/flags", "", nil, nil); status != http.StatusUnauthorized {
		t.Errorf("flags without the admin token: %d, want 401", status)
	}
	sys.assertUnchanged(t, saleID, before, "a refused policy")
	if _, set := before.meta["flagged_policy"]; set {
		t.Error("the sale had a policy before any was set")
	}
	if after := sys.snapshot(t, saleID); after.meta["flagged_policy"] != "" {
		t.Errorf("a refused policy was stored: %q", after.meta["flagged_policy"])
	}
	if rep := sys.flags(t, saleID); rep.Policy != "allow" {
		t.Errorf("policy %q after refused changes, want the default allow", rep.Policy)
	}
}
