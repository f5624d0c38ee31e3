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
