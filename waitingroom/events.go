package waitingroom

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Event kinds on a sale's event stream.
const (
	EventAdmitted = "admitted" // shoppers let out; carries the new mark
	EventGone     = "gone"     // a waiting shopper left the queue
	EventExpired  = "expired"  // holds lapsed; their shoppers lost the turn
	EventState    = "state"    // the sale's state changed
	EventOrder    = "order"    // an order was written for a reservation (one an entry, as workers announced it before EventOrders)
	EventOrders   = "orders"   // orders were written or settled: one entry for a batch of them
	EventMessage  = "message"  // an operator's message to everyone
	EventRate     = "rate"     // the operator changed the outflow rate
	EventDrawn    = "drawn"    // every prequeue shopper has its ticket: nodes look theirs up
	EventStock    = "stock"    // the operator added stock; carries the new totals
	EventPow      = "pow"      // the operator changed the proof of work asked of joiners
	EventRequeued = "requeued" // a flagged shopper was sent to the back: carries it and its new ticket
	EventRemoved  = "removed"  // a flagged shopper was taken out of the queue: carries it
	EventPlan     = "plan"     // an operator changed the plan of a sale not yet open (edit.lua): carries it
)

// Event is one entry of a sale's event stream. Which fields are set depends on Type.
type Event struct {
	ID       string        `json:"-"`
	Type     string        `json:"-"`
	Mark     int64         `json:"mark,omitempty"`
	Admitted []Reservation `json:"-"` // with admitted: the batch's holds, in ticket order
	Ticket   int64         `json:"ticket,omitempty"`
	Released []Released    `json:"released,omitempty"`
	// Reason says why the holds of an expired event went back: empty, they
	// lapsed; ReasonReleased, the shop gave them back (release.lua).
	Reason    string       `json:"reason,omitempty"`
	State     State        `json:"state,omitempty"`
	Order     *OrderEvent  `json:"order,omitempty"`
	Orders    []OrderEvent `json:"orders,omitempty"`
	Message   string       `json:"message,omitempty"`
	Rate      float64      `json:"rate,omitempty"`
	SeedHash  string       `json:"seed_hash,omitempty"` // with the state prequeue: the draw's commitment
	Seed      string       `json:"seed,omitempty"`      // with the state open after a draw: the revealed seed
	Drawn     int64        `json:"drawn,omitempty"`     // with drawn: how many prequeue shoppers were drawn
	Stock     int64        `json:"stock,omitempty"`     // with stock: the sale's stock after the change
	Available int64        `json:"available,omitempty"` // with stock: units neither held nor sold after the change
	// Product and ProductLeft, with the stock of an event: the product the
	// stock was added to, and its units left after the change.
	Product     string `json:"product,omitempty"`
	ProductLeft int64  `json:"product_left,omitempty"`
	// PowDifficulty, with pow: the new difficulty (absent: 0, off).
	PowDifficulty int `json:"pow_difficulty,omitempty"`
	// Shopper, with requeued and removed: the flagged shopper (requeued
	// carries its new ticket in Ticket).
	Shopper string `json:"shopper,omitempty"`
	// Plan, with plan: the sale's plan after an operator's edit.
	Plan *PlanNews `json:"plan,omitempty"`
	// Deleted, with the state ended: an operator deleted the sale before it
	// opened (delete.lua).
	Deleted bool `json:"deleted,omitempty"`
}

// PlanNews is what shoppers are told of an edited plan (edit.lua writes it).
type PlanNews struct {
	Name            string  `json:"name"`
	PriceCents      int64   `json:"price_cents"`
	ListPriceCents  int64   `json:"list_price_cents,omitempty"` // before the discount; 0: none
	Currency        string  `json:"currency"`
	StartsAtMs      int64   `json:"starts_at_ms"`
	EndsAtMs        int64   `json:"ends_at_ms"`
	PrequeueAtMs    int64   `json:"prequeue_at_ms"`
	Stock           int64   `json:"stock"`
	Available       int64   `json:"available"`
	Rate            float64 `json:"rate"`
	PerShopperLimit int     `json:"per_shopper_limit"`
	Message         string  `json:"message"` // the operator's message shown, "" for none
	// Products are an event's products as the edit left them; none for a
	// single-product sale.
	Products []PlanProduct `json:"products,omitempty"`
}

// PlanProduct is one product of an event in PlanNews: what a page shows of
// it (the welcome's sale.products), with its stock and its units left.
type PlanProduct struct {
	SKU             string `json:"sku"`
	Name            string `json:"name"`
	PriceCents      int64  `json:"price_cents"`
	ListPriceCents  int64  `json:"list_price_cents,omitempty"` // before its discount; 0: none
	Stock           int64  `json:"stock"`
	Left            int64  `json:"left"`
	PerShopperLimit int    `json:"per_shopper_limit"`
	ImageURL        string `json:"image_url,omitempty"`
	Description     string `json:"description,omitempty"`
}

// ReasonReleased is the Reason of an expired event whose hold the shop
// released before it lapsed.
const ReasonReleased = "released"

// Released names a reservation that expired.
type Released struct {
	Shopper     string `json:"shopper"`
	Reservation string `json:"reservation"`
}

// OrderEvent says what became of a confirmed reservation's order.
type OrderEvent struct {
	Shopper     string `json:"shopper"`
	Reservation string `json:"reservation"`
	OrderID     int64  `json:"order_id"`
	Status      string `json:"status"`
	// PaymentSecret, with a pending_payment order a provider asks the
	// shopper to pay on Foyer's page (Stripe), is the secret its page pays
	// with (a PaymentIntent's client secret). Only that shopper's tabs are
	// told it; it is never logged, and never stored in Postgres.
	PaymentSecret string `json:"payment_secret,omitempty"`
	// SKU and Quantity, for an event's order (docs/products.md), are the
	// product it bought and how many units, so that a page reloaded after
	// its checkout names the product in its receipt; empty for a
	// single-product sale's, whose pages know their one product.
	SKU      string `json:"sku,omitempty"`
	Quantity int    `json:"quantity,omitempty"`
}

// View is where a node starts following a sale: the admitted mark, the
// tickets above it that left, and the stream id the view is current up to.
type View struct {
	Mark   int64
	Gone   []int64
	LastID string
	// PowDifficulty is the proof of work asked of joiners as of LastID: pow
	// events after it change it.
	PowDifficulty int
}

// View reads, atomically, what a node needs to start computing positions
// and to know what joiners must prove.
func (r *Rooms) View(ctx context.Context, saleID string) (View, error) {
	k := Keys(saleID)
	var mark, difficulty *redis.StringCmd
	var gone *redis.ZSliceCmd
	var last *redis.XMessageSliceCmd
	_, err := r.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		mark = p.HGet(ctx, k.Meta, "mark")
		gone = p.ZRangeWithScores(ctx, k.Gone, 0, -1)
		last = p.XRevRangeN(ctx, k.Events, "+", "-", 1)
		difficulty = p.HGet(ctx, k.Meta, "pow_difficulty") // absent in sales loaded before pow: 0
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return View{}, fmt.Errorf("read view of sale %s: %w", saleID, err)
	}
	if errors.Is(mark.Err(), redis.Nil) {
		return View{}, fmt.Errorf("read view of sale %s: %w", saleID, ErrSaleNotFound)
	}
	v := View{LastID: "0-0"}
	v.Mark, _ = strconv.ParseInt(mark.Val(), 10, 64)
	v.PowDifficulty, _ = strconv.Atoi(difficulty.Val())
	for _, z := range gone.Val() {
		v.Gone = append(v.Gone, int64(z.Score))
	}
	if msgs := last.Val(); len(msgs) > 0 {
		v.LastID = msgs[0].ID
	}
	return v, nil
}

// Events returns the sale's events after the id after, waiting up to block
// for the first one. It returns no events and no error when none came.
func (r *Rooms) Events(ctx context.Context, saleID, after string, block time.Duration, max int64) ([]Event, error) {
	streams, err := r.rdb.XRead(ctx, &redis.XReadArgs{
		Streams: []string{Keys(saleID).Events, after},
		Count:   max,
		Block:   block,
	}).Result()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read events of sale %s: %w", saleID, err)
	}
	var events []Event
	for _, s := range streams {
		for _, m := range s.Messages {
			e, err := decodeEvent(m)
			if err != nil {
				return nil, fmt.Errorf("sale %s: %w", saleID, err)
			}
			events = append(events, e)
		}
	}
	return events, nil
}

func decodeEvent(m redis.XMessage) (Event, error) {
	kind, _ := m.Values["type"].(string)
	data, _ := m.Values["data"].(string)
	e := Event{ID: m.ID, Type: kind}
	if kind == EventAdmitted {
		b, admitted, err := decodeBatch(data)
		if err != nil {
			return Event{}, fmt.Errorf("decode event %s (%s): %w", m.ID, kind, err)
		}
		e.Mark, e.Admitted = b.Mark, admitted
		return e, nil
	}
	if err := json.Unmarshal([]byte(data), &e); err != nil {
		return Event{}, fmt.Errorf("decode event %s (%s): %w", m.ID, kind, err)
	}
	return e, nil
}

// ordersPerEvent bounds the orders one event carries: a worker's batch
// is at most 500, so a batch is one entry, of about 100 KiB at most.
const ordersPerEvent = 500

// AnnounceOrders appends order events to their sales' streams, one round trip
// for the lot, and one entry for up to ordersPerEvent orders: every node
// reads every entry of the stream, and an entry each was, with its decoding
// on every node, the most of what announcing an order cost. Announcing the
// same order twice is harmless: a shopper's page shows the latest status.
func (r *Rooms) AnnounceOrders(ctx context.Context, saleID string, orders []OrderEvent) error {
	events := Keys(saleID).Events
	_, err := r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for batch := range slices.Chunk(orders, ordersPerEvent) {
			body, err := json.Marshal(Event{Orders: batch})
			if err != nil {
				return err
			}
			p.XAdd(ctx, &redis.XAddArgs{
				Stream: events, MaxLen: EventsMaxLen, Approx: true,
				Values: []any{"type", EventOrders, "data", body},
			})
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("announce %d orders of sale %s: %w", len(orders), saleID, err)
	}
	return nil
}

// OrderNews is the orders an order event tells of: its batch (EventOrders),
// or its one order (EventOrder, as nodes before batches wrote it, which a
// node still reads); none for another kind of event.
func (e Event) OrderNews() []OrderEvent {
	switch {
	case e.Type == EventOrders:
		return e.Orders
	case e.Type == EventOrder && e.Order != nil:
		return []OrderEvent{*e.Order}
	}
	return nil
}

// DecodeEvent decodes an entry of a sale's event stream, for a reader
// outside the nodes (a test, a tool) that looks at it.
func DecodeEvent(m redis.XMessage) (Event, error) { return decodeEvent(m) }

// Trimmed gives the id of the oldest entry left in the sale's event stream
// when older ones were trimmed off it (MAXLEN ~ EventsMaxLen; nothing else
// deletes entries), "" when none ever was: a reader whose cursor is below
// the entry before it missed entries it can never read. (Redis 7.0 does
// not count trims in max-deleted-entry-id, so the first entry it is.)
func (r *Rooms) Trimmed(ctx context.Context, saleID string) (string, error) {
	info, err := r.rdb.XInfoStream(ctx, Keys(saleID).Events).Result()
	if err != nil && strings.Contains(err.Error(), "no such key") {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read what was trimmed off the events of sale %s: %w", saleID, err)
	}
	if info.EntriesAdded == info.Length || info.Length == 0 {
		return "", nil
	}
	return info.FirstEntry.ID, nil
}
