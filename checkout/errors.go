package checkout

import "errors"

// Errors a caller decides on; server/errors.go maps each to one HTTP status
// and error code.
var (
	ErrTokenInvalid       = errors.New("reservation token invalid")
	ErrTokenExpired       = errors.New("reservation token expired")
	ErrTokenKeyRetired    = errors.New("reservation token signed by a retired key")
	ErrTokenWrongSale     = errors.New("reservation token is for another sale")
	ErrTokenReused        = errors.New("reservation token already used")
	ErrReservationExpired = errors.New("reservation expired")
	ErrUnknownReservation = errors.New("reservation unknown")
	ErrOverLimit          = errors.New("quantity over the per-shopper limit")
	ErrNotEnoughStock     = errors.New("not enough stock for that quantity")
)
