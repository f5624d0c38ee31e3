package checkout

import (
	"errors"
	"fmt"

	"github.com/golang-jwt/jwt/v5"

	"github.com/foyerhq/foyer/internal/keyring"
	"github.com/foyerhq/foyer/waitingroom"
)

// ReservationClaims are the claims of a reservation token: the audience is
// the sale, the subject the shopper, the id the reservation.
type ReservationClaims struct {
	jwt.RegisteredClaims
	// Audience is the sale id, written as one JSON string as the protocol
	// says. It shadows RegisteredClaims.Audience (left empty), whose
	// jwt.ClaimStrings would write an array.
	Audience keyring.Audience `json:"aud,omitempty"`
	Txn      string           `json:"txn,omitempty"` // the shopper's transaction id, for tracing
}

// GetAudience is the sale, for jwt's validator (WithAudience).
func (c ReservationClaims) GetAudience() (jwt.ClaimStrings, error) { return c.Audience.Strings(), nil }

// Tokens issues and verifies reservation tokens.
type Tokens struct {
	ring *keyring.Ring
}

// NewTokens returns tokens signed by ring.
func NewTokens(ring *keyring.Ring) *Tokens { return &Tokens{ring: ring} }

// Issue signs the token for a reservation of sale. It expires with the hold.
// Ed25519 signatures are deterministic, so any node issues the same token for
// the same reservation.
func (t *Tokens) Issue(saleID string, r waitingroom.Reservation) (string, error) {
	claims := ReservationClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: keyring.Issuer, Subject: r.Shopper, ID: r.ID,
			IssuedAt:  jwt.NewNumericDate(r.AdmittedAt()),
			ExpiresAt: jwt.NewNumericDate(r.ExpiresAt()),
		},
		Audience: keyring.Audience(saleID),
		Txn:      r.Txn,
	}
	return t.ring.Sign(claims)
}

// Verify checks a token for the sale and returns its claims.
func (t *Tokens) Verify(saleID, token string) (*ReservationClaims, error) {
	var c ReservationClaims
	err := t.ring.Verify(token, &c, saleID)
	switch {
	case err == nil:
	case errors.Is(err, jwt.ErrTokenExpired):
		return nil, fmt.Errorf("verify token: %w", ErrTokenExpired)
	case errors.Is(err, keyring.ErrKeyRetired):
		return nil, fmt.Errorf("verify token: %w", ErrTokenKeyRetired)
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return nil, fmt.Errorf("verify token: %w", ErrTokenWrongSale)
	default:
		return nil, fmt.Errorf("verify token: %w: %v", ErrTokenInvalid, err)
	}
	if c.ID == "" || c.Subject == "" {
		return nil, fmt.Errorf("verify token: %w: no reservation or shopper", ErrTokenInvalid)
	}
	return &c, nil
}
