package app_test

import (
	"bytes"
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/foyerhq/foyer/internal/app"
	"github.com/foyerhq/foyer/internal/shopperclient"
	"github.com/foyerhq/foyer/internal/testenv"
	"github.com/foyerhq/foyer/waitingroom"
)

// TestShoppersGetANoticeWhileRedisIsDownAndStayConnected stops Redis under a
// sale with shoppers waiting: each is told (notice degraded) and stays
// connected, a newcomer and a request that need Redis are refused with
// unavailable, and once Redis is back each is told again (recovered), and
// the sale goes on from where it was, without selling a unit twice.
func TestShoppersGetANoticeWhileRedisIsDownAndStayConnected(t *testing.T) {
	const shoppers, stock = 4, 2
	rs := testenv.NewRedis(t, testenv.WithAppendOnly())
	sys := startNodesOn(t, rs, 1, nil)
	saleID := sys.createSale(t, map[string]any{"sku": "O-1", "name": "Outage", "stock": stock, "outflow_per_second": stalled})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	var conns []*shopperclient.Conn
	var inboxes []*inbox
	for i := range shoppers {
		conn := waiting(t, ctx, sys, saleID)
		in := listen(conn)
		if m, err := in.wait(ctx, "position"); err != nil || m.Position != int64(i+1) {
			t.Fatalf("shopper %d: position %d, %v; want %d", i, m.Position, err, i+1)
		}
		conns, inboxes = append(conns, conn), append(inboxes, in)
	}
	newcomer := newShopper(t, ctx, sys.URL) // its session is made while Redis is up

	if err := rs.Stop(); err != nil {
		t.Fatal(err)
	}
	for i, in := range inboxes {
		m, err := in.next(ctx, "notice")
		if err != nil {
			t.Fatalf("shopper %d: waiting for the notice of the outage: %v", i, err)
		}
		if m.Code != "degraded" || m.Message == "" {
			t.Errorf("shopper %d: notice %s %q, want degraded with a message", i, m.Code, m.Message)
		}
	}
	// Nobody is let in that cannot be served: a request that needs Redis,
	// and a new connection, are told to come back.
	if err := conns[0].Send(ctx, map[string]string{"type": "resume"}); err != nil {
		t.Fatal(err)
	}
	if m, err := inboxes[0].next(ctx, "error"); err != nil || m.Code != "unavailable" || m.RetryAfter < 1 {
		t.Errorf("resume while Redis is down: %+v, %v; want unavailable with retry_after", m, err)
	}
	late := newcomer.dial(t, ctx, sys.URL, saleID)
	if m := expectMessage(t, ctx, late, "error"); m.Code != "unavailable" {
		t.Errorf("a connection while Redis is down: error %s, want unavailable", m.Code)
	}
	if code := expectClose(t, ctx, late); code != 1013 {
		t.Errorf("a connection while Redis is down closed with %d, want 1013 try again later", code)
	}

	if err := rs.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	for i, in := range inboxes {
		m, err := in.next(ctx, "notice")
		if err != nil {
			t.Fatalf("shopper %d: waiting for the notice of the recovery: %v", i, err)
		}
		if m.Code != "recovered" {
			t.Errorf("shopper %d: notice %s, want recovered", i, m.Code)
		}
	}
	// Every shopper stayed connected through it all, and kept its place:
	// the first in line are admitted once the sale moves.
	adminOnceServed(t, ctx, sys, http.MethodPut, "/v1/admin/sales/"+saleID+"/rate", map[string]any{"outflow_per_second": 50})
	for i, in := range inboxes[:stock] {
		m, err := in.wait(ctx, "admitted")
		if err != nil {
			t.Fatalf("shopper %d, in line for one of the %d units: %v", i, stock, err)
		}
		if err := checkoutWithRetry(ctx, sys, m); err != nil {
			t.Fatalf("shopper %d: checkout: %v", i, err)
		}
	}
	for i, in := range inboxes[stock:] {
		if _, err := in.wait(ctx, "sold_out"); err != nil {
			t.Fatalf("shopper %d, behind the last unit: %v", stock+i, err)
		}
	}
	if got := waitOrders(ctx, sys, saleID, stock); got != stock {
		t.Fatalf("%d orders, want exactly %d", got, stock)
	}
	sold, _ := sys.Redis.HGet(ctx, waitingroom.Keys(saleID).Meta, "sold").Int()
	if sold != stock {
		t.Errorf("redis sold %d, want %d", sold, stock)
	}
	// sold_out came after any admission of theirs: none came.
	for i, in := range inboxes[stock:] {
		if in.seen("admitted") {
			t.Errorf("shopper %d was admitted beyond the stock", stock+i)
		}
	}
	// The outage outlasted the node's heartbeat, so the admitter took the
	// node for dead and its shoppers for away; the node, back, said again
	// whom it holds. Had it not, those still waiting would lose their places
	// when the grace period ended, connected all along.
	away := waitingroom.Keys(saleID).Away
	deadline := time.Now().Add(5 * time.Second)
	for sys.Redis.ZCard(ctx, away).Val() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("shoppers connected all along count as away: %v", sys.Redis.ZRange(ctx, away, 0, -1).Val())
		}
		time.Sleep(10 * time.Millisecond) // polling a condition; the deadline is what is asserted
	}
	var report bytes.Buffer
	if err := app.Reconcile(ctx, sys.cfg, saleID, false, &report); err != nil {
		t.Errorf("reconcile after the outage: %v\n%s", err, report.String())
	}
}

// seen reports whether a message of the type has arrived so far.
func (in *inbox) seen(typ string) bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	for _, m := range in.msgs {
		if m.Type == typ {
			return true
		}
	}
	return false
}

// adminOnceServed makes an operator's call as a client that honours
// unavailable would: it sends the call again while the answer is 503
// unavailable, and fails on any other answer but 200. Right after Redis comes
// back, a node may still refuse a request for about a second: once pool-size
// dials have failed, go-redis fails new ones at once, without dialing, until
// its probe (one a second) gets through. CI once met that window right after
// the rooms had said recovered.
func adminOnceServed(t *testing.T, ctx context.Context, sys *system, method, path string, body any) {
	t.Helper()
	wait := 50 * time.Millisecond
	for {
		var out struct{ Error struct{ Code string } }
		status := sys.call(t, method, path, sys.AdminToken, body, &out)
		if status == http.StatusOK {
			return
		}
		if status != http.StatusServiceUnavailable || out.Error.Code != "unavailable" {
			t.Fatalf("%s %s: %d %s, want 200", method, path, status, out.Error.Code)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s %s: still unavailable: %v", method, path, ctx.Err())
		case <-time.After(wait):
		}
		wait = min(2*wait, time.Second)
	}
}
