package waitingroom

import "errors"

// Errors a caller decides on. The server maps each to one HTTP status and
// WebSocket error code (server/errors.go).
var (
	ErrInvalidSale  = errors.New("invalid sale")
	ErrSaleNotFound = errors.New("sale not found")
	ErrSaleEnded    = errors.New("sale ended")
	ErrSoldOut      = errors.New("sold out")
	ErrTooEarly     = errors.New("the prequeue has not opened yet")
	// ErrInvalidShopper refuses a join whose shopper or transaction id is
	// not 1 to 128 of [A-Za-z0-9_-]: admission writes them into JSON
	// unescaped, which is what keeps it cheap (admit.lua).
	ErrInvalidShopper = errors.New("invalid shopper id")
	// ErrFlagged refuses a join from a shopper flagged as automated, in a
	// sale whose operator removes flagged shoppers (FlagPolicyRemove).
	ErrFlagged = errors.New("flagged: this sale removes shoppers that look automated")
	// ErrIdentityRequired refuses a join from an anonymous shopper in a sale
	// whose identity is IdentityRequired: only a session made from the
	// shop's identity token may join.
	ErrIdentityRequired = errors.New("identity required: this sale admits only the shop's signed-in customers")
	// ErrFenced means another node became the sale's admitter: this one must stop.
	ErrFenced = errors.New("admitter fenced off")
)
