package app_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/foyerhq/foyer/internal/app"
	"github.com/foyerhq/foyer/waitingroom"
)

// TestReconcileFindsALostRedisAndRepairRebuildsItFromPostgres sells three
// units, then wipes Redis as a disaster would. Reconcile reports the
// difference; --repair rebuilds the sale from Postgres, after which
// reconcile reports none and a replayed token is still refused.
func TestReconcileFindsALostRedisAndRepairRebuildsItFromPostgres(t *testing.T) {
	sys := startSystem(t)
	saleID := sys.createSale(t, map[string]any{"sku": "Q-1", "name": "Reconcile", "stock": 5, "outflow_per_second": 100})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var tokens []string
	for range 3 {
		in := buyOne(t, ctx, sys, saleID)
		orderStatus(t, ctx, in, "paid")
		admitted, _ := in.wait(ctx, "admitted")
		tokens = append(tokens, admitted.Token)
	}
	// A fourth shopper holds a unit and does not pay: reconcile counts its
	// hold among the held reservations.
	admitOne(t, ctx, sys, saleID)
	var report bytes.Buffer
	if err := app.Reconcile(ctx, sys.cfg, saleID, false, &report); err != nil {
		t.Fatalf("a healthy sale: %v\n%s", err, report.String())
	}
	if !strings.Contains(report.String(), "1 / 1") {
		t.Errorf("the report does not count the one hold as held on both sides:\n%s", report.String())
	}

	if err := sys.Redis.FlushAll(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	report.Reset()
	if err := app.Reconcile(ctx, sys.cfg, saleID, false, &report); !errors.Is(err, app.ErrDifferent) {
		t.Fatalf("reconcile after losing Redis: %v, want ErrDifferent\n%s", err, report.String())
	}
	if !strings.Contains(report.String(), "DIFFERENT") {
		t.Errorf("the report shows no difference:\n%s", report.String())
	}
	report.Reset()
	if err := app.Reconcile(ctx, sys.cfg, saleID, true, &report); err != nil {
		t.Fatalf("repair: %v\n%s", err, report.String())
	}
	t.Logf("after repair:\n%s", report.String())
	sold, _ := sys.Redis.HGet(ctx, "sale:{"+saleID+"}:meta", "sold").Int()
	available, _ := sys.Redis.HGet(ctx, "sale:{"+saleID+"}:meta", "available").Int()
	if sold != 3 || available != 2 {
		t.Errorf("after repair: sold %d, available %d; want 3 and 2", sold, available)
	}
	var body struct{ Error struct{ Code string } }
	status := sys.call(t, http.MethodPost, "/v1/sales/"+saleID+"/checkout", "", map[string]string{"token": tokens[0]}, &body)
	if status != http.StatusConflict || body.Error.Code != "token_reused" {
		t.Errorf("a token used before the loss: %d %q, want 409 token_reused", status, body.Error.Code)
	}
}

// TestRepairPutsBackAnInvitedSalesListsAndWhatEachCustomerBought sells a
// listed customer one of the two units a customer may have, then wipes
// Redis. --repair rebuilds the sale from Postgres with its invitee list and
// codes, and the customer's counts: a customer off the list is refused, and
// the listed one, who may buy once more, queues again but may not take two
// more units.
func TestRepairPutsBackAnInvitedSalesListsAndWhatEachCustomerBought(t *testing.T) {
	sys := startNodes(t, 1, withIdentitySecret())
	saleID := sys.createSale(t, map[string]any{"sku": "Q-2", "name": "Members' repair", "stock": 10,
		"outflow_per_second": 100, "identity": "optional", "eligibility": "invited",
		"per_shopper_limit": 2, "per_customer_units": 2, "per_customer_orders": 3})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sys.putInvitees(t, saleID, "alice\n")
	sys.inviteCodes(t, saleID, 1)
	admitted, in, _ := customerAdmitted(t, ctx, sys, saleID, "alice")
	sys.checkout(t, saleID, admitted.Token)
	orderStatus(t, ctx, in, "paid")
	shopper := claimsOf(t, sys, saleID, admitted.Token).Subject

	if err := sys.Redis.FlushAll(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	var report bytes.Buffer
	if err := app.Reconcile(ctx, sys.cfg, saleID, true, &report); err != nil {
		t.Fatalf("repair: %v\n%s", err, report.String())
	}
	k := waitingroom.Keys(saleID)
	if n := sys.Redis.SCard(ctx, k.Invited).Val(); n != 1 {
		t.Errorf("the repaired sale lists %d customers, want 1", n)
	}
	if n := sys.Redis.HLen(ctx, k.Invites).Val(); n != 1 {
		t.Errorf("the repaired sale has %d invite codes, want 1", n)
	}
	bought := sys.Redis.HGetAll(ctx, k.Bought).Val()
	if bought[shopper] != "1" || bought[shopper+":orders"] != "1" {
		t.Errorf("the repaired counts are %v, want 1 unit in 1 order for %s", bought, shopper)
	}
	if c := sys.Redis.HGet(ctx, k.Customers, shopper).Val(); c != "alice" {
		t.Errorf("the repaired sale knows the shopper as customer %q, want alice", c)
	}

	expectNotEligible(t, ctx, arriveWithIdentity(t, ctx, sys, saleID, signHS256(t, outsider("mallory"))),
		"a customer off the list, after the repair")
	// One unit and two orders to go: a new place, and one unit, not two.
	again, _, _ := customerAdmitted(t, ctx, sys, saleID, "alice")
	if again.ReservationID == admitted.ReservationID {
		t.Fatalf("alice got her paid reservation back, want a new place")
	}
	before := sys.snapshot(t, saleID)
	var out struct{ Error struct{ Code string } }
	status := sys.call(t, http.MethodPost, "/v1/sales/"+saleID+"/checkout", "",
		map[string]any{"token": again.Token, "quantity": 2}, &out)
	if status != http.StatusUnprocessableEntity || out.Error.Code != "quantity_over_limit" {
		t.Errorf("two more units with one left to the customer after the repair: %d %q, want 422 quantity_over_limit",
			status, out.Error.Code)
	}
	sys.assertUnchanged(t, saleID, before, "an order over the per-customer limit after a repair")
}
