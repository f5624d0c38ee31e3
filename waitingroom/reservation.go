package waitingroom

import (
	"errors"
	"time"
)

// ErrReservationUnknown means the shopper holds no reservation with that id
// in the sale: a made-up or mangled id, another shopper's, or one whose
// batch has lapsed and been cleared. Nothing was read or changed.
var ErrReservationUnknown = errors.New("reservation unknown")

// Reservation is one unit of stock held for one admitted shopper. It is stored
// as JSON in the sale's res hash; checkout confirms it there.
type Reservation struct {
	ID           string `json:"reservation"`
	Shopper      string `json:"shopper"`
	Ticket       int64  `json:"ticket"`
	AdmittedAtMs int64  `json:"admitted_at"`
	ExpiresAtMs  int64  `json:"expires_at"`
	Txn          string `json:"txn"`
	Status       string `json:"status"` // held, confirmed or expired
}

// AdmittedAt is when the shopper was let out and the unit held.
func (r Reservation) AdmittedAt() time.Time { return time.UnixMilli(r.AdmittedAtMs) }

// ExpiresAt is when the hold lapses unless checked out.
func (r Reservation) ExpiresAt() time.Time { return time.UnixMilli(r.ExpiresAtMs) }
