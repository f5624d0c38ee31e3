package server

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/foyerhq/foyer/internal/wire"
	"github.com/foyerhq/foyer/waitingroom"
)

// pushEvery is how often a sale room pushes positions and stock: at most
// once a second per shopper, as the protocol promises.
const pushEvery = time.Second

// idleRoomTTL is how long a sale room with no shoppers on this node keeps
// following its sale before it stops.
const idleRoomTTL = time.Minute

// SaleFeed is what the fan-out engine reads of the queue: a sale's events
// as they come, and what a room needs to start, to push and to place the
// draw's shoppers. *waitingroom.Rooms is the one implementation.
type SaleFeed interface {
	// Events returns the sale's events after the id after, waiting up to
	// block for the first; at most max.
	Events(ctx context.Context, saleID, after string, block time.Duration, max int64) ([]waitingroom.Event, error)
	// View is the sale as a room starts following it.
	View(ctx context.Context, saleID string) (waitingroom.View, error)
	// Status is the sale's state, counts and queue as they are now.
	Status(ctx context.Context, saleID string) (waitingroom.Status, error)
	// Tickets are the draw's tickets of the shoppers given, by shopper.
	Tickets(ctx context.Context, saleID string, shoppers []string) (map[string]int64, error)
}

// TokenIssuer signs the checkout token an admitted shopper is told.
// *checkout.Tokens is the one implementation.
type TokenIssuer interface {
	Issue(saleID string, r waitingroom.Reservation) (string, error)
}

// hub holds this node's sale rooms: one per sale it has shoppers of.
type hub struct {
	rooms        SaleFeed
	tokens       TokenIssuer
	checkoutBase string
	log          *slog.Logger

	ctx    context.Context // ends when the node stops
	cancel context.CancelFunc

	writers *writePool
	metrics *metrics
	hooks   hooks // test seams; all nil in a real node

	// sockets counts the shopper sockets being opened or served, from the
	// handler's start to the end of their session's clean-up (departure,
	// connection counts given back): closeAll waits for it, so the node
	// closes Redis only once every clean-up has used it.
	sockets sync.WaitGroup
	// roomLoops counts the rooms' goroutines (follow, pushLoop), which
	// closeAll stops and awaits.
	roomLoops sync.WaitGroup

	mu       sync.Mutex
	sales    map[string]*saleRoom
	draining bool // set by closeAll: no one enters any more
}

// hooks let a test of this package see or hold the engine at a point of
// its work. Nil hooks cost a comparison.
type hooks struct {
	// readingTickets runs before a room reads the draw's tickets from
	// Redis (placeDrawn), outside every lock.
	readingTickets func(saleID string)
	// handling runs before a client message is handled, on the message's
	// goroutine.
	handling func(m wire.ClientMsg)
}

// track counts a shopper socket the node starts to handle; done, called
// once its session's clean-up has run, uncounts it. ok is false on a
// draining node, which takes no more sockets.
func (h *hub) track() (done func(), ok bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.draining {
		return nil, false
	}
	h.sockets.Add(1) // under h.mu, before draining is set: never races closeAll's Wait
	return h.sockets.Done, true
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

func newHub(rooms SaleFeed, tokens TokenIssuer, publicURL string, log *slog.Logger) *hub {
	ctx, cancel := context.WithCancel(context.Background())
	return &hub{rooms: rooms, tokens: tokens, checkoutBase: publicURL, log: log,
		ctx: ctx, cancel: cancel, sales: map[string]*saleRoom{}, writers: newWritePool(writerCount),
		metrics: newMetrics()}
}

// run starts the node's writers, waits for ctx, then drains the node:
// every shopper is told to reconnect elsewhere, every session's clean-up
// runs, then every room and writer stops. When it returns, no goroutine of
// the hub is left, and nothing of it will use Redis again.
func (h *hub) run(ctx context.Context) error {
	h.writers.start()
	<-ctx.Done()
	h.closeAll()
	return nil
}

// enter puts a connection into its sale's room, starting the room if this is
// the node's first shopper of the sale. It never holds the hub's lock while
// it waits for a room's: a room busy with its sale delays only its own
// sale's openings.
func (h *hub) enter(ctx context.Context, st waitingroom.Status, c *conn) (*saleRoom, error) {
	saleID := st.SaleID
	for {
		h.mu.Lock()
		if h.draining {
			h.mu.Unlock()
			return nil, errDraining
		}
		if r := h.sales[saleID]; r != nil {
			// Counted as entering under the hub's lock, so retire cannot
			// stop the room between finding it and joining it.
			r.entering.Add(1)
			h.mu.Unlock()
			ok := r.register(c, st)
			r.entering.Add(-1)
			if !ok {
				return nil, errDraining
			}
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
			h.roomLoops.Add(2)
			go func() { defer h.roomLoops.Done(); fresh.follow() }()
			go func() { defer h.roomLoops.Done(); fresh.pushLoop() }()
		}
		h.mu.Unlock()
	}
}

// retire stops a room that has had no shoppers for idleRoomTTL. It reads
// the room's counts without the room's lock.
func (h *hub) retire(r *saleRoom, now time.Time) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if r.entering.Load() > 0 || r.members.Load() > 0 || now.Sub(time.Unix(0, r.emptySince.Load())) < idleRoomTTL {
		return false
	}
	delete(h.sales, r.id)
	r.stop()
	return true
}

// closeAll tells every shopper on this node to reconnect elsewhere, waits
// for every session's clean-up, then stops the rooms and the writers and
// waits for them.
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
		r.closing = true // a socket still entering is refused, not missed
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
	h.sockets.Wait()
	h.cancel()
	h.roomLoops.Wait()
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
