package fanout

import (
	"encoding/json"
	"io"
	"log/slog"
	"slices"
	"testing"

	"github.com/foyerhq/foyer/checkout"
	"github.com/foyerhq/foyer/internal/keyring"
	"github.com/foyerhq/foyer/internal/wire"
	"github.com/foyerhq/foyer/waitingroom"
)

// bareRoom is a sale room alone: no sockets, no Redis; what its shoppers are
// told stays in their connections' queues (they are never let out).
func bareRoom(t *testing.T) *Room {
	t.Helper()
	ring, err := keyring.New(keyring.NewSeed())
	if err != nil {
		t.Fatal(err)
	}
	h := &Hub{tokens: checkout.NewTokens(ring), metrics: newMetrics(nil), log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	return &Room{h: h, id: "s_bare", conns: map[*Conn]struct{}{}, shoppers: map[string][]*Conn{},
		positions: waitingroom.NewPositions(waitingroom.View{}), state: waitingroom.StateOpen, rate: 10}
}

// held is a shopper's tab in the room whose messages stay queued.
func (r *Room) heldTab(shopper string, status connStatus) *Conn {
	c := &Conn{shopper: shopper, status: status, held: true, metrics: r.h.metrics}
	r.conns[c] = struct{}{}
	r.shoppers[shopper] = append(r.shoppers[shopper], c)
	return c
}

// TestAShopperAtTheHeadIsShownNoEstimateWhileEveryUnitIsHeld: nothing moves
// until a hold lapses or is bought, so the protocol leaves eta out; before,
// the head of the queue was shown {0, 0}, a wait of nothing.
func TestAShopperAtTheHeadIsShownNoEstimateWhileEveryUnitIsHeld(t *testing.T) {
	r := bareRoom(t)
	r.stock = StockMsg{Type: wire.MsgStock, Total: 10, Left: 0, Held: 10, AllHeld: true}
	c := r.heldTab("v_head", connWaiting)
	r.mu.Lock()
	r.pushPosition(c, 1)
	r.mu.Unlock()
	var m PositionMsg
	if err := json.Unmarshal(c.queue[0], &m); err != nil {
		t.Fatal(err)
	}
	if m.Position != 1 || m.ETA != nil {
		t.Errorf("shown %s, want position 1 without eta", c.queue[0])
	}
}

// TestAPrequeueShopperAdmittedBeforeTheDrawEndsIsShownItsPositionFirst: the
// draw hands tickets out a chunk per tick and announces "drawn" once the
// last chunk is out, but the first chunk's shoppers may be admitted
// meanwhile. Such a shopper is told the position it had, then admitted;
// before, it was admitted without ever seeing a position.
func TestAPrequeueShopperAdmittedBeforeTheDrawEndsIsShownItsPositionFirst(t *testing.T) {
	r := bareRoom(t)
	c := r.heldTab("v_lucky", connPrequeue)
	r.applyEvent(waitingroom.Event{Type: waitingroom.EventAdmitted, Mark: 2, Admitted: []waitingroom.Reservation{
		{ID: "r_n_1", Shopper: "v_other", Ticket: 1, ExpiresAtMs: 1},
		{ID: "r_n_2", Shopper: "v_lucky", Ticket: 2, ExpiresAtMs: 1},
	}})
	if got := types(t, c.queue); !slices.Equal(got, []string{wire.MsgPosition, wire.MsgAdmitted}) {
		t.Fatalf("the drawn shopper was told %v, want a position then admitted", got)
	}
	var m PositionMsg
	if err := json.Unmarshal(c.queue[0], &m); err != nil {
		t.Fatal(err)
	}
	if m.Position != 2 {
		t.Errorf("shown position %d, want 2 (its ticket, nobody admitted before it)", m.Position)
	}
}

// TestAShopperWithSeveralTabsIsSignedOneTokenPerAdmission: the admitted
// message is signed once per reservation, outside the room's lock, and the
// same bytes go to every tab.
func TestAShopperWithSeveralTabsIsSignedOneTokenPerAdmission(t *testing.T) {
	r := bareRoom(t)
	tabs := []*Conn{r.heldTab("v_tabs", connWaiting), r.heldTab("v_tabs", connWaiting), r.heldTab("v_tabs", connWaiting)}
	r.applyEvent(waitingroom.Event{Type: waitingroom.EventAdmitted, Mark: 1, Admitted: []waitingroom.Reservation{
		{ID: "r_n_1", Shopper: "v_tabs", Ticket: 1, ExpiresAtMs: 1},
	}})
	for i, c := range tabs {
		if len(c.queue) != 1 || &c.queue[0][0] != &tabs[0].queue[0][0] {
			t.Errorf("tab %d was not sent the one admitted message signed for the shopper", i)
		}
	}
}
