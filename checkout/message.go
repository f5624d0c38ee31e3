package checkout

import "time"

// OrdersTopic is the Watermill topic (a Redis stream) that carries confirmed
// reservations to the order workers.
const OrdersTopic = "foyer.orders.confirmed"

// TxnMetadataKey is the Watermill metadata key of the shopper's transaction
// id, so middleware and logs can follow one journey without the payload.
const TxnMetadataKey = "txn"

// ReservationConfirmed is the payload of a message on OrdersTopic: everything
// the worker needs to write the order row, with no trip back to Redis.
type ReservationConfirmed struct {
	SaleID        string    `json:"sale_id"`
	ReservationID string    `json:"reservation_id"`
	ShopperID     string    `json:"shopper_id"`
	Txn           string    `json:"txn"`
	Quantity      int       `json:"quantity"`
	PriceCents    int64     `json:"price_cents"`
	Currency      string    `json:"currency"`
	ConfirmedAt   time.Time `json:"confirmed_at"`
}
