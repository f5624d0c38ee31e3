package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/foyerhq/foyer/internal/shopperclient"
)

// nginx, as deploy/nginx/foyer.conf sets it up, passes the HTTP fallback
// through unbuffered: a shopper's welcome and place come as they are sent
// (X-Accel-Buffering: no), not when a buffer fills or the stream ends, and
// its posts reach the stream.
func TestNginxPassesTheFallbacksEventsUnbufferedAndItsPosts(t *testing.T) {
	sys := startNodes(t, 1, behindNginx)
	lb := startNginx(t, sys.URL)
	saleID := sys.createSale(t, map[string]any{"sku": "F-N", "name": "Behind nginx", "stock": 5, "outflow_per_second": stalled})
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	client := shopperclient.New(lb.URL())
	client.SetWire(shopperclient.OverEvents)
	conn, err := client.Arrive(ctx, saleID, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.CloseNow() })
	in := listen(conn)
	if _, err := in.wait(ctx, "welcome"); err != nil {
		t.Fatalf("the welcome never came through nginx: %v", err)
	}
	waitPosition(t, ctx, in, 1)
	if err := conn.Send(ctx, map[string]any{"type": "time", "client_time": 7}); err != nil {
		t.Fatalf("post through nginx: %v", err)
	}
	if m, err := in.wait(ctx, "time"); err != nil || m.ClientTime != 7 {
		t.Fatalf("the answer to a post through nginx: %+v, %v", m, err)
	}
}

// Behind nginx, with two gateways, each stream's posts reach the gateway
// that holds the stream (foyer_streams hashes the stream key), so shoppers
// over the fallback join by posting, and are placed in the order they
// joined, on whichever gateway their streams are.
func TestBehindNginxAStreamsPostsReachTheGatewayThatHoldsIt(t *testing.T) {
	sys := startNodes(t, 2, behindNginx)
	lb := startNginx(t, sys.URLs...)
	saleID := sys.createSale(t, map[string]any{"sku": "F-M", "name": "Two gateways", "stock": 5, "outflow_per_second": stalled})
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	const shoppers = 12 // streams spread over both gateways by their random keys
	for i := range shoppers {
		s := newShopper(t, ctx, lb.URL())
		conn := s.dialOver(t, ctx, lb.URL(), saleID, shopperclient.OverEvents)
		in := listen(conn)
		if _, err := in.wait(ctx, "welcome"); err != nil {
			t.Fatal(err)
		}
		if err := conn.Join(ctx); err != nil {
			t.Fatalf("shopper %d posts its join through nginx: %v", i, err)
		}
		waitPosition(t, ctx, in, int64(i+1))
	}
}
