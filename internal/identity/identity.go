// Package identity verifies the identity tokens a shop's backend mints for
// its logged-in customers (docs/integration.md, "Known customers"), and
// derives the shopper id a customer has in every sale. It owns the token's
// rules (algorithms, claims and their bounds, one use per jti) and promises
// that a token it accepts was signed by the shop, is fresh, is meant for
// Foyer, and was never accepted before.
package identity

import (
	"context"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"
)

// Audience is the aud an identity token must carry, so that a token the shop
// mints for another service can never open a session here.
const Audience = "foyer"

// Bounds of an identity token's claims.
const (
	// MaxLifetime is the longest an identity token may live, from the
	// earlier of iat and now to exp: it is a hand-over from the shop's page
	// to Foyer, made the moment the customer arrives, not a login.
	MaxLifetime = 5 * time.Minute
	// MaxCustomerIDLen bounds sub, in characters.
	MaxCustomerIDLen = 128
	// MaxGroups and MaxGroupLen bound the groups claim.
	MaxGroups   = 32
	MaxGroupLen = 64
	// maxJTILen bounds jti, which is stored in Redis until exp.
	maxJTILen = 128
	// leeway absorbs small clock differences between the shop and Foyer.
	leeway = 5 * time.Second
)

// ErrInvalid refuses an identity token: bad signature, algorithm, audience
// or claims, expired, too long-lived, or used before. The server answers it
// with 401 identity_invalid.
var ErrInvalid = errors.New("identity token invalid")

// Customer is who a verified identity token vouches for.
type Customer struct {
	ID     string   // the shop's customer id (sub)
	Groups []string // the shop's groups the customer is in, for eligibility
}

// Spender records that a token id was used, once: SpendOnce reports false
// when it was spent already. The record must last until the token expires.
type Spender interface {
	SpendOnce(ctx context.Context, jti string, until time.Time) (bool, error)
}

// Keys are the shop's keys: an HS256 secret, an Ed25519 public key, or both.
type Keys struct {
	HS256Secret []byte
	Ed25519     ed25519.PublicKey
}

// Verifier checks identity tokens against the shop's keys and spends their
// ids.
type Verifier struct {
	keys    Keys
	methods []string
	spent   Spender
	now     func() time.Time
}

// NewVerifier returns a verifier of tokens signed with keys, or nil when
// keys holds none: identity is off.
func NewVerifier(keys Keys, spent Spender, now func() time.Time) *Verifier {
	var methods []string
	if len(keys.HS256Secret) > 0 {
		methods = append(methods, jwt.SigningMethodHS256.Alg())
	}
	if len(keys.Ed25519) == ed25519.PublicKeySize {
		methods = append(methods, jwt.SigningMethodEdDSA.Alg())
	}
	if len(methods) == 0 {
		return nil
	}
	if now == nil {
		now = time.Now
	}
	return &Verifier{keys: keys, methods: methods, spent: spent, now: now}
}

type claims struct {
	jwt.RegisteredClaims
	Groups []string `json:"groups,omitempty"`
}

// Verify checks token and spends its jti: a token is accepted once. Every
// refusal wraps ErrInvalid; a failure to reach the store of spent ids does
// not, and accepts nothing.
func (v *Verifier) Verify(ctx context.Context, token string) (Customer, error) {
	var c claims
	parser := jwt.NewParser(jwt.WithValidMethods(v.methods), jwt.WithExpirationRequired(), jwt.WithIssuedAt(),
		jwt.WithAudience(Audience), jwt.WithLeeway(leeway), jwt.WithTimeFunc(v.now))
	if _, err := parser.ParseWithClaims(token, &c, v.keyFor); err != nil {
		return Customer{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if err := v.checkClaims(&c); err != nil {
		return Customer{}, err
	}
	fresh, err := v.spent.SpendOnce(ctx, c.ID, c.ExpiresAt.Add(leeway))
	if err != nil {
		return Customer{}, fmt.Errorf("spend identity token id: %w", err)
	}
	if !fresh {
		return Customer{}, fmt.Errorf("%w: jti used already", ErrInvalid)
	}
	return Customer{ID: c.Subject, Groups: c.Groups}, nil
}

func (v *Verifier) keyFor(t *jwt.Token) (any, error) {
	switch t.Method.Alg() {
	case jwt.SigningMethodHS256.Alg():
		return v.keys.HS256Secret, nil
	case jwt.SigningMethodEdDSA.Alg():
		return v.keys.Ed25519, nil
	}
	return nil, fmt.Errorf("algorithm %s", t.Method.Alg())
}

// checkClaims applies the bounds the parser does not know.
func (v *Verifier) checkClaims(c *claims) error {
	if !validText(c.Subject, MaxCustomerIDLen) {
		return fmt.Errorf("%w: sub must be 1 to %d printable characters", ErrInvalid, MaxCustomerIDLen)
	}
	if !validText(c.ID, maxJTILen) {
		return fmt.Errorf("%w: jti must be 1 to %d printable characters", ErrInvalid, maxJTILen)
	}
	// From the earlier of iat and now: an iat in the past shortens the
	// token's life, one in the future (refused by the parser beyond the
	// leeway) cannot lengthen it.
	from := v.now()
	if c.IssuedAt != nil && c.IssuedAt.Before(from) {
		from = c.IssuedAt.Time
	}
	if c.ExpiresAt.Sub(from) > MaxLifetime+leeway {
		return fmt.Errorf("%w: exp more than %s after iat", ErrInvalid, MaxLifetime)
	}
	if len(c.Groups) > MaxGroups {
		return fmt.Errorf("%w: more than %d groups", ErrInvalid, MaxGroups)
	}
	for _, g := range c.Groups {
		if !validText(g, MaxGroupLen) {
			return fmt.Errorf("%w: a group must be 1 to %d printable characters", ErrInvalid, MaxGroupLen)
		}
	}
	return nil
}

// validText reports whether s is 1 to max printable characters.
func validText(s string, max int) bool {
	if s == "" || !utf8.ValidString(s) || utf8.RuneCountInString(s) > max {
		return false
	}
	return strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) < 0
}

// shopperEncoding writes a shopper id in the characters shopper ids allow.
var shopperEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// ShopperID is the shopper id of a customer: c_ and 16 bytes of an
// HMAC-SHA256 of the customer id under key, in base32. The same customer
// gets the same shopper on every tab, browser, device and node, so it holds
// one place in a sale; the id reveals nothing of the customer's. Anonymous
// shoppers' ids start with v_, so no anonymous session can pass for a
// customer's.
func ShopperID(key []byte, customerID string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(customerID))
	return "c_" + shopperEncoding.EncodeToString(m.Sum(nil)[:16])
}

// IsCustomer reports whether a shopper id is a customer's (ShopperID).
func IsCustomer(shopperID string) bool { return strings.HasPrefix(shopperID, "c_") }
