package waitingroom

import (
	"errors"
	"strconv"
	"strings"
	"time"
)

// ErrReservationUnknown means the shopper holds no reservation with that id
// in the sale: a made-up or mangled id, another shopper's, or one whose
// batch has lapsed and been cleared. Nothing was read or changed.
var ErrReservationUnknown = errors.New("reservation unknown")

// A reservation is named r_<admission nonce>_<its shopper's ticket>: a batch
// is held as one record (admit.lua), and the name is how a reservation finds
// its batch. This file is the Go spelling of the format, lua/lib.lua
// (reservation_id, parse_reservation) the scripts' one; nothing else spells it.

// ReservationID names the hold of the shopper with this ticket in the
// admission with this nonce.
func ReservationID(nonce string, ticket int64) string {
	return "r_" + nonce + "_" + strconv.FormatInt(ticket, 10)
}

// ParseReservationID splits a reservation id into its admission's nonce and
// its shopper's ticket.
func ParseReservationID(id string) (nonce string, ticket int64, ok bool) {
	rest, found := strings.CutPrefix(id, "r_")
	cut := strings.LastIndexByte(rest, '_')
	if !found || cut <= 0 {
		return "", 0, false
	}
	ticket, err := strconv.ParseInt(rest[cut+1:], 10, 64)
	return rest[:cut], ticket, err == nil && ticket > 0
}

// Reservation is one unit of stock held for one admitted shopper. It is stored
// as JSON in the sale's res hash once Confirm (or Refund) writes it.
type Reservation struct {
	ID           string `json:"reservation"`
	Shopper      string `json:"shopper"`
	Ticket       int64  `json:"ticket"`
	AdmittedAtMs int64  `json:"admitted_at"`
	ExpiresAtMs  int64  `json:"expires_at"`
	Txn          string `json:"txn"`
	Status       string `json:"status"` // held, confirmed or expired
	// SKU and Quantity, once confirmed, are what the checkout bought
	// (confirm.lua): SKU an event's product ("" in a single-product sale),
	// Quantity its units.
	SKU      string `json:"sku,omitempty"`
	Quantity int    `json:"quantity,omitempty"`
}

// AdmittedAt is when the shopper was let out and the unit held.
func (r Reservation) AdmittedAt() time.Time { return time.UnixMilli(r.AdmittedAtMs) }

// ExpiresAt is when the hold lapses unless checked out.
func (r Reservation) ExpiresAt() time.Time { return time.UnixMilli(r.ExpiresAtMs) }
