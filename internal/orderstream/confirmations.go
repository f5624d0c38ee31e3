package orderstream

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
)

// ReservationConfirmed is one confirmation on OrdersTopic: everything the
// worker needs to write the order row, with no trip back to Redis.
type ReservationConfirmed struct {
	SaleID        string    `json:"sale_id"`
	ReservationID string    `json:"reservation_id"`
	ShopperID     string    `json:"shopper_id"`
	Txn           string    `json:"txn"`
	Quantity      int       `json:"quantity"`
	PriceCents    int64     `json:"price_cents"`
	Currency      string    `json:"currency"`
	ConfirmedAt   time.Time `json:"confirmed_at"`
	// ShopOrderRef is the shop's order reference of a reservation the shop
	// redeemed (POST /v1/reservations/{id}/redeem): the shop took the money,
	// so the order is written paid and charged nothing. Empty (and absent
	// from the bytes, as in messages of earlier versions) for Foyer's
	// checkout.
	ShopOrderRef string `json:"shop_order_ref,omitempty"`
	// CustomerID is the shop's own customer id of a shopper signed in with
	// the shop's identity token; empty (absent) for an anonymous shopper.
	CustomerID string `json:"customer_id,omitempty"`
	// SKU is the product an event's checkout chose (docs/products.md), and
	// PriceCents that product's; empty (absent) for a single-product sale,
	// whose order gets the sale's own sku.
	SKU string `json:"sku,omitempty"`
}

// Redeemed reports whether the shop redeemed the reservation (and took the
// money) rather than Foyer's checkout confirming it.
func (c ReservationConfirmed) Redeemed() bool { return c.ShopOrderRef != "" }

// ConfirmationBatch is the payload of a message that carries several
// confirmations: a gateway gathers those it confirms within a few
// milliseconds into one message, because the stream is read one message per
// round trip and orders are written a batch per transaction.
type ConfirmationBatch struct {
	Confirmations []ReservationConfirmed `json:"confirmations"`
}

// ConfirmationMessage is the message of one confirmation, as the outbox
// relay and an unbatched checkout publish it. Its id is the reservation id
// and the shopper's transaction id rides in its metadata (TxnMetadataKey).
func ConfirmationMessage(c ReservationConfirmed) (*message.Message, error) {
	payload, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("encode confirmation %s: %w", c.ReservationID, err)
	}
	msg := message.NewMessage(c.ReservationID, payload)
	msg.Metadata.Set(TxnMetadataKey, c.Txn)
	return msg, nil
}

// ConfirmationBatchMessage is the message of several confirmations, named
// after the first one's reservation.
func ConfirmationBatchMessage(batch []ReservationConfirmed) (*message.Message, error) {
	if len(batch) == 0 {
		return nil, fmt.Errorf("encode confirmations: empty batch")
	}
	payload, err := json.Marshal(ConfirmationBatch{Confirmations: batch})
	if err != nil {
		return nil, fmt.Errorf("encode %d confirmations: %w", len(batch), err)
	}
	return message.NewMessage("batch-"+batch[0].ReservationID, payload), nil
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
