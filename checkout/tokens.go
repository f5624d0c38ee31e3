package checkout

import (
	"errors"
	"fmt"
	"time"

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
	// Customer is the shop's own customer id when the shopper's session was
	// made from the shop's identity token: the shop compares it with the
	// customer signed in at its checkout before it takes any money (sub is
	// Foyer's shopper id, which the shop cannot compute).
	Customer string `json:"cid,omitempty"`
}

// GetAudience is the sale, for jwt's validator (WithAudience).
func (c ReservationClaims) GetAudience() (jwt.ClaimStrings, error) { return c.Audience.Strings(), nil }

// Tokens issues and verifies reservation tokens.
type Tokens struct {
	ring   *keyring.Ring
	issued issued // the tokens signed here lately: checked without a signature
}

// NewTokens returns tokens signed by ring.
func NewTokens(ring *keyring.Ring) *Tokens { return &Tokens{ring: ring} }

// Issue signs the token for a reservation of sale. It expires with the hold.
// Ed25519 signatures are deterministic, so any node issues the same token for
// the same reservation.
func (t *Tokens) Issue(saleID string, r waitingroom.Reservation) (string, error) {
	return t.IssueFor(saleID, r, "")
}

// IssueFor is Issue for the shop's customer: the token names it (cid).
// Every tab of one customer is one shopper of one customer, so each node
// still signs the same token for the same reservation.
func (t *Tokens) IssueFor(saleID string, r waitingroom.Reservation, customer string) (string, error) {
	claims := ReservationClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: keyring.Issuer, Subject: r.Shopper, ID: r.ID,
			IssuedAt:  jwt.NewNumericDate(r.AdmittedAt()),
			ExpiresAt: jwt.NewNumericDate(r.ExpiresAt()),
		},
		Audience: keyring.Audience(saleID),
		Txn:      r.Txn,
		Customer: customer,
	}
	token, err := t.ring.Sign(claims)
	if err != nil {
		return "", err
	}
	t.issued.remember(token, &claims)
	return token, nil
}

// Verify checks a token for the sale and returns its claims, which the
// caller must not change. A token this node signed lately is known by its
// text (issued); any other is checked by its signature.
func (t *Tokens) Verify(saleID, token string) (*ReservationClaims, error) {
	c, _, err := t.verify(saleID, token)
	return c, err
}

// verify is Verify, and reports whether the token is one this node signed,
// presented here for the first time.
func (t *Tokens) verify(saleID, token string) (*ReservationClaims, bool, error) {
	if c, first := t.issued.valid(saleID, token, time.Now()); c != nil {
		return c, first, nil
	}
	c, err := t.verifySignature(saleID, token)
	return c, false, err
}

// verifySignature checks a token by its signature and jwt's validation.
func (t *Tokens) verifySignature(saleID, token string) (*ReservationClaims, error) {
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
