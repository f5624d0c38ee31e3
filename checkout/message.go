package checkout

import (
	"encoding/json"
	"fmt"
	"time"
)

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

// ConfirmationBatch is the payload of a message that carries several
// confirmations: a gateway gathers those it confirms within a few
// milliseconds into one message, because the stream is read one message per
// round trip and orders are written a batch per transaction.
type ConfirmationBatch struct {
	Confirmations []ReservationConfirmed `json:"confirmations"`
}

// DecodeConfirmations reads a message on OrdersTopic: one confirmation, or
// a batch of them.
func DecodeConfirmations(payload []byte) ([]ReservationConfirmed, error) {
	var batch ConfirmationBatch
	if err := json.Unmarshal(payload, &batch); err != nil {
		return nil, fmt.Errorf("decode confirmations: %w", err)
	}
	if batch.Confirmations != nil {
		return batch.Confirmations, nil
	}
	var one ReservationConfirmed
	if err := json.Unmarshal(payload, &one); err != nil {
		return nil, fmt.Errorf("decode confirmation: %w", err)
	}
	if one.ReservationID == "" {
		return nil, fmt.Errorf("decode confirmation: no reservation id")
	}
	return []ReservationConfirmed{one}, nil
}
