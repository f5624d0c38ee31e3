package app_test

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/foyerhq/foyer/waitingroom"
)

// TestPrequeueShoppersAreShownTheirDrawnPlacesAtTheStart joins shoppers in
// the prequeue, lets the sale start, and checks that each is pushed the
// place the published seed gives its prequeue ticket.
func TestPrequeueShoppersAreShownTheirDrawnPlacesAtTheStart(t *testing.T) {
	const shoppers = 15
	sys := startNodes(t, 2, nil)
	saleID := sys.createSale(t, map[string]any{"sku": "D-1", "name": "Draw", "stock": 100,
		"starts_at": startsIn(4 * time.Second), "prequeue_seconds": 3600, "outflow_per_second": stalled})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var committed waitingroom.Draw
	sys.call(t, http.MethodGet, "/v1/sales/"+saleID+"/draw", "", nil, &committed)
	if committed.SeedHash == "" || committed.Seed != "" {
		t.Fatalf("before the start the draw shows %+v, want the seed's hash only", committed)
	}

	ticketOf := map[*inbox]int64{}
	for i := range shoppers {
		conn, _ := connectNew(t, ctx, sys.URLs[i%2], saleID)
		in := listen(conn)
		if err := conn.Join(ctx); err != nil {
			t.Fatal(err)
		}
		m, err := in.waitAny(ctx, "prequeue", "position")
		if err != nil {
			t.Fatal(err)
		}
		if m.Type != "prequeue" {
			t.Fatalf("shopper %d joined after the start; the test's margin is too small", i)
		}
		ticketOf[in] = m.Ticket
	}
	for in := range ticketOf {
		if _, err := in.wait(ctx, "position"); err != nil {
			t.Fatal(err)
		}
	}
	var revealed waitingroom.Draw
	sys.call(t, http.MethodGet, "/v1/sales/"+saleID+"/draw", "", nil, &revealed)
	var tickets []int64
	for _, ticket := range ticketOf {
		tickets = append(tickets, ticket)
	}
	order := waitingroom.DrawOrder(revealed.Seed, tickets)
	if !slices.Equal(order, revealed.Tickets) {
		t.Fatalf("published order %v, recomputed from the seed %v", revealed.Tickets, order)
	}
	for in, ticket := range ticketOf {
		pos, _ := in.wait(ctx, "position")
		if want := int64(slices.Index(order, ticket) + 1); pos.Position != want {
			t.Errorf("prequeue ticket %d was shown place %d, the draw gives %d", ticket, pos.Position, want)
		}
	}
}
