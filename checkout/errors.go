package checkout

import (
	"errors"

	"github.com/foyerhq/foyer/waitingroom"
)

// Errors a caller decides on; server/errors.go maps each to one HTTP status
// and error code.
var (
	ErrTokenInvalid    = errors.New("reservation token invalid")
	ErrTokenExpired    = errors.New("reservation token expired")
	ErrTokenKeyRetired = errors.New("reservation token signed by a retired key")
	ErrTokenWrongSale  = errors.New("reservation token is for another sale")
)

// Errors of confirming, which waitingroom owns (Rooms.Confirm): the same
// values under the names checkout's callers know, so errors.Is holds either
// way.
var (
	// ErrTokenReused: the token's reservation was confirmed already.
	ErrTokenReused        = waitingroom.ErrReservationConfirmed
	ErrReservationExpired = waitingroom.ErrReservationExpired
	ErrUnknownReservation = waitingroom.ErrReservationUnknown
	ErrOverLimit          = waitingroom.ErrOverLimit
	ErrNotEnoughStock     = waitingroom.ErrNotEnoughStock
)

// ErrCheckoutNotShop refuses a redeem in a sale checked out by Foyer; it is
// waitingroom's (confirm.lua).
var ErrCheckoutNotShop = waitingroom.ErrCheckoutNotShop
