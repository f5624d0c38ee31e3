// Package reservation verifies Foyer's reservation tokens the way a shop
// does: with the public keys Foyer publishes at /.well-known/jwks.json,
// fetched and cached by keyfunc, and nothing else of Foyer. It is the Go
// example of docs/integration.md, "Verifying a reservation token".
package reservation

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
)

// Issuer is the iss claim of every token Foyer signs.
const Issuer = "foyer"

// leeway is how far apart Foyer's clock and the shop's may be.
const leeway = 5 * time.Second

// The reasons a token is refused; errors.Is tells them apart.
var (
	ErrExpired   = errors.New("reservation token expired")
	ErrWrongSale = errors.New("reservation token is for another sale")
	ErrInvalid   = errors.New("reservation token invalid")
)

// Reservation is what a verified token vouches for: Foyer holds one unit
// of the sale for the shopper until ExpiresAt.
type Reservation struct {
	ID        string // the jti: the reservation to redeem or release
	SaleID    string // the aud: one of the sales the shop asked for
	ShopperID string // the sub: Foyer's shopper id (c_... for a known customer)
	// CustomerID is the cid: the shop's own customer id, when the shopper's
	// session was made from the shop's identity token ("" for an anonymous
	// shopper). Compare it with the customer signed in at the checkout.
	CustomerID string
	ExpiresAt  time.Time // the exp: when Foyer gives the unit back
}

// Verifier checks reservation tokens against Foyer's JWKS.
type Verifier struct {
	keys keyfunc.Keyfunc
}

// NewVerifier fetches the keys at jwksURL (Foyer's base URL +
// "/.well-known/jwks.json") and keeps them fresh until ctx ends: it fetches
// them again every hour, and when a token names a key it does not know
// (Foyer rotated), at most every 5 minutes.
func NewVerifier(ctx context.Context, jwksURL string) (*Verifier, error) {
	k, err := keyfunc.NewDefaultCtx(ctx, []string{jwksURL})
	if err != nil {
		return nil, fmt.Errorf("keys of %s: %w", jwksURL, err)
	}
	return &Verifier{keys: k}, nil
}

// Verify checks that token is a reservation Foyer signed for one of
// saleIDs and that it has not expired, and returns the reservation.
// saleIDs are the sales the shop set up, from its own configuration: never
// a sale id read from the request (foyer_sale is the customer's to change,
// and a token of any of Foyer's sales would pass against it).
func (v *Verifier) Verify(token string, saleIDs ...string) (Reservation, error) {
	if len(saleIDs) == 0 {
		// jwt.WithAudience() with no audience checks none at all.
		return Reservation{}, fmt.Errorf("%w: no sale to check its audience against", ErrInvalid)
	}
	var c claims
	_, err := jwt.ParseWithClaims(token, &c, v.keyFor,
		jwt.WithValidMethods([]string{jwt.SigningMethodEdDSA.Alg()}), // never none, never HS256 with the public key
		jwt.WithIssuer(Issuer),
		jwt.WithAudience(saleIDs...), // aud is the sale, one JSON string: one of the shop's
		jwt.WithExpirationRequired(),
		jwt.WithLeeway(leeway),
	)
	switch {
	case err == nil:
	case errors.Is(err, jwt.ErrTokenExpired):
		return Reservation{}, fmt.Errorf("%w: %v", ErrExpired, err)
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return Reservation{}, fmt.Errorf("%w: %v", ErrWrongSale, err)
	default:
		return Reservation{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if c.ID == "" || c.Subject == "" {
		return Reservation{}, fmt.Errorf("%w: no reservation (jti) or shopper (sub)", ErrInvalid)
	}
	if len(c.Audience) != 1 {
		return Reservation{}, fmt.Errorf("%w: %d audiences, want the one sale", ErrInvalid, len(c.Audience))
	}
	return Reservation{ID: c.ID, SaleID: c.Audience[0], ShopperID: c.Subject, CustomerID: c.Customer,
		ExpiresAt: c.ExpiresAt.Time}, nil
}

// claims are a reservation token's: the registered ones and the shop's
// customer (cid).
type claims struct {
	jwt.RegisteredClaims
	Customer string `json:"cid,omitempty"`
}

// keyFor is the key named by the token's kid. Foyer always names its key;
// a token without kid is refused rather than tried against every key.
func (v *Verifier) keyFor(t *jwt.Token) (any, error) {
	if kid, _ := t.Header["kid"].(string); strings.TrimSpace(kid) == "" {
		return nil, errors.New("no kid in the token's header")
	}
	return v.keys.Keyfunc(t)
}
