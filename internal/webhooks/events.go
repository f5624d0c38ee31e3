package webhooks

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// The event types an endpoint may ask for.
const (
	OrderCreated        = "order.created"
	OrderPaid           = "order.paid"
	OrderCancelled      = "order.cancelled"
	ReservationRedeemed = "reservation.redeemed"
	ReservationReleased = "reservation.released"
	SaleStateChanged    = "sale.state_changed"
	SaleSoldOut         = "sale.sold_out"
)

// EventTypes are every event type there is, in the order the docs list them.
var EventTypes = []string{OrderCreated, OrderPaid, OrderCancelled, ReservationRedeemed, ReservationReleased,
	SaleStateChanged, SaleSoldOut}

// Event is the JSON body of every delivery.
type Event struct {
	ID        string          `json:"id"` // evt_..., the same on every delivery of the event
	Type      string          `json:"type"`
	CreatedAt time.Time       `json:"created_at"`
	SaleID    string          `json:"sale_id"`
	Data      json.RawMessage `json:"data"`
}

// OrderData is the data of order.created, order.paid, order.cancelled and
// reservation.redeemed: the order as it stood when the event happened.
type OrderData struct {
	OrderID       int64  `json:"order_id,omitempty"`
	ReservationID string `json:"reservation_id"`
	TransactionID string `json:"transaction_id"`
	ShopperID     string `json:"shopper_id"`
	// CustomerID is the shop's customer id, when the order row has one.
	CustomerID string `json:"customer_id,omitempty"`
	// SKU and ProductName are the product the order bought: an event's
	// product, or a single-product sale's own sku and name.
	SKU         string `json:"sku,omitempty"`
	ProductName string `json:"product_name,omitempty"`
	Quantity    int    `json:"quantity"`
	AmountCents int64  `json:"amount_cents"` // unit price × quantity
	Currency    string `json:"currency"`
	Status      string `json:"status"`
	// ShopOrderRef is the shop's own order reference, given when it
	// redeemed the reservation.
	ShopOrderRef string `json:"shop_order_ref,omitempty"`
}

// ReleasedData is the data of reservation.released: a held unit went back
// to the sale, because the shop released it or because its hold lapsed.
type ReleasedData struct {
	ReservationID string `json:"reservation_id"`
	ShopperID     string `json:"shopper_id"`
	Reason        string `json:"reason"` // "released" or "expired"
}

// SaleStateData is the data of sale.state_changed and sale.sold_out.
type SaleStateData struct {
	State string `json:"state"`
	// Resync marks the state told again after the tail found events of the
	// sale lost (its Redis stream trimmed past where webhooks had read): it
	// is the state as it stood then, not a change that just happened.
	Resync bool `json:"resync,omitempty"`
}

// newEvent is an event about to be recorded.
type newEvent struct {
	id, typ, saleID, orderingKey string
	body                         []byte
}

// eventID derives an event's id from what happened, so that recording the
// same happening twice (a redelivered message, two workers reading one
// stream) gives the same id, and the second is dropped.
func eventID(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return "evt_" + hex.EncodeToString(h.Sum(nil)[:16])
}

// makeEvent builds an event of typ about sale, whose id is derived from
// what, grouped for ordering under key.
func makeEvent(typ, saleID, key string, data any, at time.Time, what ...string) (newEvent, error) {
	id := eventID(append([]string{typ}, what...)...)
	raw, err := json.Marshal(data)
	if err != nil {
		return newEvent{}, fmt.Errorf("encode %s data: %w", typ, err)
	}
	body, err := json.Marshal(Event{ID: id, Type: typ, CreatedAt: at.UTC().Truncate(time.Millisecond), SaleID: saleID, Data: raw})
	if err != nil {
		return newEvent{}, fmt.Errorf("encode %s: %w", typ, err)
	}
	return newEvent{id: id, typ: typ, saleID: saleID, orderingKey: key, body: body}, nil
}

// recordSQL writes events, skipping those recorded before, and gives each
// new one a delivery to every endpoint that asked for its type, in the
// events' order: one statement, one round trip, in the caller's transaction.
//
// The deliveries are made here, in the order's transaction, though that
// doubles the rows it writes, rather than fanned out later by the
// dispatcher reading webhook_events behind a cursor on seq: a seq is taken
// before its transaction commits, so a transaction that commits late puts
// an event behind a cursor that has already passed it, and it would never
// be sent. Telling those apart (by transaction ids and the snapshot's
// horizon) is possible, but at least once is plain to see this way: an
// event and its deliveries commit together or not at all.
//
// The bodies come as one JSON array of them, not as a text array: each is
// a JSON object already, so the array is their concatenation, where a text
// array's literal escaped every quote of every body (lib/pq's
// StringArray.Value was nearly a tenth of an order worker's CPU). The json type
// keeps its input's text, and json_array_elements gives each element's
// text as it came: the body recorded is the body signed, byte for byte.
const recordSQL = `
WITH ev AS (
	INSERT INTO webhook_events (id, type, sale_id, ordering_key, body)
	SELECT e.id, e.type, e.sale_id, e.ordering_key, b.body::text
	FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) WITH ORDINALITY
		AS e(id, type, sale_id, ordering_key, n)
	JOIN json_array_elements($5::json) WITH ORDINALITY AS b(body, n) USING (n)
	ORDER BY n
	ON CONFLICT (id) DO NOTHING
	RETURNING seq, type, ordering_key
)
INSERT INTO webhook_deliveries (endpoint_id, event_seq, ordering_key)
SELECT e.id, ev.seq, ev.ordering_key FROM ev JOIN webhook_endpoints e ON ev.type = ANY(e.events)
ORDER BY ev.seq, e.id`

// record writes events in tx.
func record(ctx context.Context, tx *sqlx.Tx, events []newEvent) error {
	if len(events) == 0 {
		return nil
	}
	n := len(events)
	ids, types, sales, keys := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	size := 2
	for i, e := range events {
		ids[i], types[i], sales[i], keys[i] = e.id, e.typ, e.saleID, e.orderingKey
		size += len(e.body) + 1
	}
	bodies := make([]byte, 0, size)
	bodies = append(bodies, '[')
	for i, e := range events {
		if i > 0 {
			bodies = append(bodies, ',')
		}
		bodies = append(bodies, e.body...)
	}
	bodies = append(bodies, ']')
	if _, err := tx.ExecContext(ctx, recordSQL, pq.Array(ids), pq.Array(types), pq.Array(sales), pq.Array(keys),
		string(bodies)); err != nil {
		return fmt.Errorf("record %d webhook events: %w", n, err)
	}
	return nil
}
