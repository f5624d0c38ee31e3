package waitingroom

import (
	"encoding/json"
	"fmt"
)

// admittedBatch is one admission as admit.lua announces it: the batch's
// shoppers in ticket order, with what they share said once. A batch is
// stored and announced in this shape, not as one record per shopper, so
// that letting a thousand shoppers out costs Redis one write per shopper
// (its reservation's name) rather than four (docs/architecture.md).
type admittedBatch struct {
	Mark         int64    `json:"mark"`
	Nonce        string   `json:"batch"`
	ExpiresAtMs  int64    `json:"expires_at"`
	AdmittedAtMs int64    `json:"admitted_at"`
	Shoppers     []string `json:"shoppers"`
	Tickets      []int64  `json:"tickets"`
	Txns         []string `json:"txns"`
}

// reservations expands the batch into one held reservation per shopper.
func (b admittedBatch) reservations() ([]Reservation, error) {
	// admit.lua announces no empty batch; an older version's event, with its
	// reservations in "admitted", reads as one, and must not pass for none.
	if len(b.Shoppers) == 0 || len(b.Tickets) != len(b.Shoppers) || len(b.Txns) != len(b.Shoppers) {
		return nil, fmt.Errorf("batch %s: %d shoppers, %d tickets, %d txns", b.Nonce, len(b.Shoppers), len(b.Tickets), len(b.Txns))
	}
	out := make([]Reservation, len(b.Shoppers))
	for i, shopper := range b.Shoppers {
		out[i] = Reservation{ID: ReservationID(b.Nonce, b.Tickets[i]), Shopper: shopper, Ticket: b.Tickets[i],
			AdmittedAtMs: b.AdmittedAtMs, ExpiresAtMs: b.ExpiresAtMs, Txn: b.Txns[i], Status: "held"}
	}
	return out, nil
}

// decodeBatch reads admit.lua's body of an admission.
func decodeBatch(raw string) (admittedBatch, []Reservation, error) {
	var b admittedBatch
	if err := json.Unmarshal([]byte(raw), &b); err != nil {
		return admittedBatch{}, nil, err
	}
	res, err := b.reservations()
	return b, res, err
}
