package fanout

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/foyerhq/foyer/waitingroom"
)

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
	// IssueFor signs the token of r; customer (the shop's customer id of
	// the shopper's session, or "") rides in it.
	IssueFor(saleID string, r waitingroom.Reservation, customer string) (string, error)
}

// Config is what a hub needs from the node that runs it.
type Config struct {
	// Feed is the queue the rooms read their sales from.
	Feed SaleFeed
	// Tokens signs the checkout tokens of admitted shoppers.
	Tokens TokenIssuer
	// CheckoutBase is the node's public URL, without a trailing slash: an
	// admitted message's checkout_url starts with it.
	CheckoutBase string
	// StripePublishableKey is the Stripe account's publishable key
	// (pk_...), told with a pending order's client secret so that the
	// shopper's page pays it with Stripe's Payment Element. Defaults to
	// "": the payment provider is not Stripe, and no order message carries
	// a payment.
	StripePublishableKey string
	// Log receives the rooms' warnings and errors.
	Log *slog.Logger
	// Registerer takes the engine's Prometheus series (connections open,
	// slow clients dropped). Nil registers them nowhere.
	Registerer prometheus.Registerer
	// EncodeError encodes the error message a shopper is told when an
	// operator's rule on flagged shoppers takes it out of the queue
	// (waitingroom.ErrFlagged): the error table is the transport's.
	// Required.
	EncodeError func(error) []byte
	// Hooks are for tests only; a real node leaves them nil.
	Hooks Hooks
}

// Hooks let a test see or hold the engine at a point of its work. They are
// for tests only: nil hooks cost a comparison.
type Hooks struct {
	// ReadingTickets runs before a room reads the draw's tickets from the
	// feed (placeDrawn), outside every lock.
	ReadingTickets func(saleID string)
}

// Hub holds this node's sale rooms: one per sale it has shoppers of.
type Hub struct {
	feed         SaleFeed
	tokens       TokenIssuer
	checkoutBase string
	stripeKey    string // Config.StripePublishableKey
	log          *slog.Logger
	encodeError  func(error) []byte
	hooks        Hooks

	ctx    context.Context // ends when the node stops
	cancel context.CancelFunc

	writers *writePool
	metrics *metrics

	// sockets counts the shopper sockets being opened or served, from the
	// handler's start to the end of their session's clean-up (departure,
	// connection counts given back): closeAll waits for it, so the node
	// closes Redis only once every clean-up has used it.
	sockets sync.WaitGroup
	// roomLoops counts the rooms' goroutines (follow, pushLoop), which
	// closeAll stops and awaits.
	roomLoops sync.WaitGroup

	mu       sync.Mutex
	sales    map[string]*Room
	draining bool // set by closeAll: no one enters any more
}

// Track counts a shopper socket the node starts to handle; done, called
// once its session's clean-up has run, uncounts it. ok is false on a
// draining node, which takes no more sockets. Run's drain waits for every
// socket tracked.
func (h *Hub) Track() (done func(), ok bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.draining {
		return nil, false
	}
	h.sockets.Add(1) // under h.mu, before draining is set: never races closeAll's Wait
	return h.sockets.Done, true
}

// IsDraining reports whether the node is shutting down: it welcomes no one.
func (h *Hub) IsDraining() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.draining
}

// Following returns the node's room of the sale, or nil when the node does
// not follow the sale (yet).
func (h *Hub) Following(saleID string) *Room {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.sales[saleID]
}

// ErrDraining refuses a connection to a node that is shutting down.
var ErrDraining = errors.New("node draining")

// New makes a node's hub; Run starts its writers.
func New(cfg Config) *Hub {
	// The hub's context ends when Run drains the node, not with a request:
	// it is the rooms' and the sessions' lifetime.
	ctx, cancel := context.WithCancel(context.Background())
	h := &Hub{feed: cfg.Feed, tokens: cfg.Tokens, checkoutBase: cfg.CheckoutBase, stripeKey: cfg.StripePublishableKey, log: cfg.Log,
		encodeError: cfg.EncodeError, hooks: cfg.Hooks,
		ctx: ctx, cancel: cancel, sales: map[string]*Room{}, writers: newWritePool(writerCount),
		metrics: newMetrics(cfg.Registerer)}
	if cfg.Registerer != nil {
		cfg.Registerer.MustRegister(newSaleGauges(h))
	}
	return h
}

// Context ends when the node has drained: what a session does on behalf
// of its shopper lives as long as it.
func (h *Hub) Context() context.Context { return h.ctx }

// Open is how many shopper connections are open on this node, for its
// ceiling.
func (h *Hub) Open() int64 { return h.metrics.open.Load() }

// Run starts the node's writers and its idle sweep, waits for ctx, then drains the node:
// every shopper is told to reconnect elsewhere, every session's clean-up
// runs, then every room and writer stops. When it returns, no goroutine of
// the hub is left, and nothing of it will use Redis again.
func (h *Hub) Run(ctx context.Context) error {
	h.writers.start()
	swept := make(chan struct{})
	go func() { defer close(swept); h.sweepIdle(ctx) }()
	<-ctx.Done()
	<-swept
	h.closeAll()
	return nil
}

// Enter puts a connection into its sale's room, starting the room if this is
// the node's first shopper of the sale; st is the sale's status as the
// connection's welcome told it. It returns ErrDraining once the node drains. It never holds the hub's lock while
// it waits for a room's: a room busy with its sale delays only its own
// sale's openings.
func (h *Hub) Enter(ctx context.Context, st waitingroom.Status, c *Conn) (*Room, error) {
	saleID := st.SaleID
	for {
		h.mu.Lock()
		if h.draining {
			h.mu.Unlock()
			return nil, ErrDraining
		}
		if r := h.sales[saleID]; r != nil {
			// Counted as entering under the hub's lock, so retire cannot
			// stop the room between finding it and joining it.
			r.entering.Add(1)
			h.mu.Unlock()
			ok := r.register(c, st)
			r.entering.Add(-1)
			if !ok {
				return nil, ErrDraining
			}
			return r, nil
		}
		h.mu.Unlock()
		// The room's starting view is read without the lock; if another
		// connection started the room meanwhile, the loop joins that one.
		view, err := h.feed.View(ctx, saleID)
		if err != nil {
			return nil, err
		}
		fresh := newRoom(h, view, st)
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
func (h *Hub) retire(r *Room, now time.Time) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if r.entering.Load() > 0 || r.members.Load() > 0 || now.Sub(time.Unix(0, r.emptySince.Load())) < idleRoomTTL {
		return false
	}
	delete(h.sales, r.id)
	r.stop()
	return true
}

// rooms are the rooms the node follows now, taken under the hub's lock
// and looked at after it: the hub's lock never waits on a room's.
func (h *Hub) rooms() []*Room {
	h.mu.Lock()
	defer h.mu.Unlock()
	rooms := make([]*Room, 0, len(h.sales))
	for _, r := range h.sales {
		rooms = append(rooms, r)
	}
	return rooms
}

// closeAll tells every shopper on this node to reconnect elsewhere, waits
// for every session's clean-up, then stops the rooms and the writers and
// waits for them.
func (h *Hub) closeAll() {
	h.mu.Lock()
	if h.draining {
		h.mu.Unlock()
		return
	}
	h.draining = true
	h.mu.Unlock()
	var conns []*Conn
	for _, r := range h.rooms() {
		r.mu.Lock()
		r.closing = true // a socket still entering is refused, not missed
		for c := range r.conns {
			conns = append(conns, c)
		}
		r.mu.Unlock()
	}
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Go(func() { c.CloseAndWait(websocket.StatusGoingAway, "node draining: reconnect") })
	}
	wg.Wait()
	h.sockets.Wait()
	h.cancel()
	h.roomLoops.Wait()
	h.writers.stop()
}
