package server

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/foyerhq/foyer/checkout"
	"github.com/foyerhq/foyer/waitingroom"
)

// pushEvery is how often a sale room pushes positions and stock: at most
// once a second per shopper, as the protocol promises.
const pushEvery = time.Second

// idleRoomTTL is how long a sale room with no shoppers on this node keeps
// following its sale before it stops.
const idleRoomTTL = time.Minute

// hub holds this node's sale rooms: one per sale it has shoppers of.
type hub struct {
	rooms        *waitingroom.Rooms
	tokens       *checkout.Tokens
	checkoutBase string
	log          *slog.Logger

	ctx    context.Context // ends when the node stops
	cancel context.CancelFunc

	writers *writePool
	metrics *metrics

	mu       sync.Mutex
	sales    map[string]*saleRoom
	draining bool // set by closeAll: no one enters any more
}

// isDraining reports whether the node is shutting down: it welcomes no one.
func (h *hub) isDraining() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.draining
}

// following returns the node's room of the sale, or nil when the node does
// not follow the sale (yet).
func (h *hub) following(saleID string) *saleRoom {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.sales[saleID]
}

// errDraining refuses a connection to a node that is shutting down.
var errDraining = errors.New("node draining")

func newHub(rooms *waitingroom.Rooms, tokens *checkout.Tokens, publicURL string, log *slog.Logger) *hub {
	ctx, cancel := context.WithCancel(context.Background())
	return &hub{rooms: rooms, tokens: tokens, checkoutBase: publicURL, log: log,
		ctx: ctx, cancel: cancel, sales: map[string]*saleRoom{}, writers: newWritePool(writerCount),
		metrics: newMetrics()}
}

// run waits for ctx, then drains the node: every shopper is told to
// reconnect elsewhere, then every room stops.
func (h *hub) run(ctx context.Context) error {
	<-ctx.Done()
	h.closeAll()
	return nil
}

// enter puts a connection into its sale's room, starting the room if this is
// the node's first shopper of the sale.
func (h *hub) enter(ctx context.Context, st waitingroom.Status, c *conn) (*saleRoom, error) {
	saleID := st.SaleID
	for {
		h.mu.Lock()
		if h.draining {
			h.mu.Unlock()
			return nil, errDraining
		}
		if r := h.sales[saleID]; r != nil {
			// Registered under the hub's lock, so retire cannot stop the
			// room between finding it and joining it.
			r.mu.Lock()
			r.conns[c] = struct{}{}
			r.shoppers[c.shopper] = append(r.shoppers[c.shopper], c)
			r.mu.Unlock()
			h.mu.Unlock()
			return r, nil
		}
		h.mu.Unlock()
		// The room's starting view is read without the lock; if another
		// connection started the room meanwhile, the loop joins that one.
		view, err := h.rooms.View(ctx, saleID)
		if err != nil {
			return nil, err
		}
		fresh := newSaleRoom(h, view, st)
		h.mu.Lock()
		if h.sales[saleID] == nil && !h.draining {
			h.sales[saleID] = fresh
			go fresh.follow()
			go fresh.pushLoop()
		}
		h.mu.Unlock()
	}
}

// retire stops a room that has had no shoppers for idleRoomTTL.
func (h *hub) retire(r *saleRoom, now time.Time) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.conns) > 0 || now.Sub(r.emptySince) < idleRoomTTL {
		return false
	}
	delete(h.sales, r.id)
	r.stop()
	return true
}

// closeAll tells every shopper on this node to reconnect elsewhere.
func (h *hub) closeAll() {
	h.mu.Lock()
	if h.draining {
		h.mu.Unlock()
		return
	}
	h.draining = true
	rooms := make([]*saleRoom, 0, len(h.sales))
	for _, r := range h.sales {
		rooms = append(rooms, r)
	}
	h.mu.Unlock()
	var conns []*conn
	for _, r := range rooms {
		r.mu.Lock()
		for c := range r.conns {
			conns = append(conns, c)
		}
		r.mu.Unlock()
	}
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Go(func() { c.closeAndWait(statusGoingAway, "node draining: reconnect") })
	}
	wg.Wait()
	h.cancel()
	h.writers.stop()
}

// encode marshals a message once; a broadcast sends the same bytes to all.
func encode(msg any) []byte {
	b, err := json.Marshal(msg)
	if err != nil {
		panic("encode protocol message: " + err.Error()) // our own types always encode
	}
	return b
}
