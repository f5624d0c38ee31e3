package app_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// TestDrainingOneNodeOfThreeKeepsEveryShoppersPlace connects 1,000 waiting
// shoppers over three nodes and drains one as SIGTERM would: its shoppers
// are told "going away" (1001), reconnect to another node with the same
// session, and are shown the very position they had.
func TestDrainingOneNodeOfThreeKeepsEveryShoppersPlace(t *testing.T) {
	const shoppers = 1000
	sys := startNodes(t, 2, nil)
	drained := sys.startGateway(t, "node-drained")
	urls := []string{sys.URLs[0], sys.URLs[1], drained.URL}
	saleID := sys.createSale(t, map[string]any{"sku": "N-1", "name": "Drain", "stock": 10, "outflow_per_second": stalled})
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()

	type placed struct {
		shopper shopperOn
		in      *inbox
		pos     int64
	}
	all := make([]placed, shoppers)
	var wg sync.WaitGroup
	limit := make(chan struct{}, 50)
	errs := make(chan error, shoppers)
	for i := range all {
		wg.Go(func() {
			limit <- struct{}{}
			defer func() { <-limit }()
			s := newShopper(t, ctx, urls[i%3])
			conn, in := s.connect(t, ctx, urls[i%3], saleID)
			if _, err := in.wait(ctx, "welcome"); err != nil {
				errs <- err
				return
			}
			conn.Join(ctx)
			m, err := in.wait(ctx, "position")
			if err != nil {
				errs <- err
				return
			}
			all[i] = placed{shopper: s, in: in, pos: m.Position}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	drained.Stop()
	var moved int
	for i, p := range all {
		if i%3 != 2 {
			continue
		}
		moved++
		if _, err := p.in.wait(ctx, "never"); websocket.CloseStatus(err) != websocket.StatusGoingAway {
			t.Fatalf("shopper %d on the drained node: %v, want close 1001", i, err)
		}
		_, again := p.shopper.connect(t, ctx, urls[i%2], saleID)
		m, err := again.wait(ctx, "position")
		if err != nil {
			t.Fatal(err)
		}
		if m.Position != p.pos {
			t.Errorf("shopper %d had position %d before the drain and %d after", i, p.pos, m.Position)
		}
	}
	t.Logf("%d of %d shoppers moved off the drained node, each keeping its place", moved, shoppers)
}
