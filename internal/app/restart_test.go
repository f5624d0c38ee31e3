package app_test

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/foyerhq/foyer/internal/app"
	"github.com/foyerhq/foyer/internal/shopperclient"
	"github.com/foyerhq/foyer/internal/testenv"
	"github.com/foyerhq/foyer/waitingroom"
)

// TestARedisRestartMidSaleSellsNothingTwice runs a sale of 50 units for 100
// shoppers on Redis with AOF, and restarts Redis once 15 orders are in and
// the other admitted shoppers have yet to check out. The gateway and worker
// reconnect by themselves, the sale carries on, and it ends with exactly 50
// orders; shoppers retry a checkout that failed while Redis was away, as
// the protocol tells them to.
//
// The restart is placed by a gate, not by timing: the first 15 admitted
// check out, Redis restarts once their orders are written, and only then do
// the others check out. Placing it by counting orders as shoppers were
// admitted missed on a slow machine, where all 50 were admitted before the
// workers had written 15.
func TestARedisRestartMidSaleSellsNothingTwice(t *testing.T) {
	const shoppers, stock, before = 100, 50, 15
	rs := testenv.NewRedis(t, testenv.WithAppendOnly())
	sys := startNodesOn(t, rs, 1, nil)
	saleID := sys.createSale(t, map[string]any{"sku": "R-1", "name": "Restart", "stock": stock,
		"outflow_per_second": 25, "starts_at": startsIn(2 * time.Second), "prequeue_seconds": 60})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	var admitted atomic.Int32
	firstDone := make(chan struct{}, before) // the checkouts before the restart
	restarted := make(chan struct{})
	go func() {
		defer close(restarted)
		for range before {
			select {
			case <-firstDone:
			case <-ctx.Done():
				t.Errorf("fewer than %d checkouts before the restart: %v", before, ctx.Err())
				return
			}
		}
		if got := waitOrders(ctx, sys, saleID, before); got < before {
			t.Errorf("%d orders before the restart, want %d", got, before)
			return
		}
		if err := rs.Stop(); err != nil {
			t.Error(err)
		}
		if err := rs.Restart(ctx); err != nil {
			t.Error(err)
		}
	}()

	var wg sync.WaitGroup
	results := make(chan error, shoppers)
	for range shoppers {
		wg.Go(func() {
			conn, _ := connectNew(t, ctx, sys.URL, saleID)
			in := listen(conn)
			if _, err := in.wait(ctx, "welcome"); err != nil {
				results <- err
				return
			}
			conn.Join(ctx)
			m, err := in.waitAny(ctx, "admitted", "sold_out")
			if err != nil || m.Type == "sold_out" {
				results <- err
				return
			}
			if admitted.Add(1) <= before {
				results <- checkoutWithRetry(ctx, sys, m)
				firstDone <- struct{}{}
				return
			}
			<-restarted
			results <- checkoutWithRetry(ctx, sys, m)
		})
	}
	wg.Wait()
	close(results)
	<-restarted
	if t.Failed() {
		t.FailNow()
	}
	for err := range results {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := waitOrders(ctx, sys, saleID, stock); got != stock {
		t.Fatalf("%d orders after a Redis restart, want exactly %d", got, stock)
	}
	var distinct int
	sys.DB.Get(&distinct, `SELECT count(DISTINCT shopper_id) FROM orders WHERE sale_id = $1`, saleID)
	sold, _ := sys.Redis.HGet(ctx, waitingroom.Keys(saleID).Meta, "sold").Int()
	if distinct != stock || sold != stock {
		t.Errorf("%d distinct buyers, redis sold %d; want %d", distinct, sold, stock)
	}
	var report bytes.Buffer
	if err := app.Reconcile(ctx, sys.cfg, saleID, false, &report); err != nil {
		t.Errorf("reconcile after the restart: %v\n%s", err, report.String())
	}
}

// checkoutWithRetry checks out, retrying a failure that was not the
// shopper's fault (Redis away) with a short backoff.
func checkoutWithRetry(ctx context.Context, sys *system, admitted shopperclient.Message) error {
	c := shopperclient.New(sys.URL)
	wait := 50 * time.Millisecond
	for {
		_, err := c.Checkout(ctx, admitted.CheckoutURL, admitted.Token)
		var apiErr *shopperclient.APIError
		if err == nil || !errors.As(err, &apiErr) || apiErr.Status < 500 {
			if apiErr != nil && apiErr.Code == "token_reused" {
				return nil // the first try went through before the answer was lost
			}
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, time.Second)
	}
}

// waitOrders waits until the order workers have written want orders, or the
// count stops growing: the orders still in flight are given time to land.
func waitOrders(ctx context.Context, sys *system, saleID string, want int) int {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		var n int
		sys.DB.Get(&n, `SELECT count(*) FROM orders WHERE sale_id = $1`, saleID)
		if n >= want || ctx.Err() != nil {
			return n
		}
		<-tick.C
	}
}
