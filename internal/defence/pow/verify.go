package pow

import (
	"context"
	"crypto/hmac"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// The errors Verify returns for a bad solution, which a caller maps to error
// codes. Any other error is a failure of Redis, wrapped with context.
var (
	ErrPowRequired = errors.New("pow: a solved challenge is required")
	ErrPowInvalid  = errors.New("pow: invalid challenge or solution")
	ErrPowExpired  = errors.New("pow: the challenge has expired")
	ErrPowReplayed = errors.New("pow: the challenge was already used")
)

// clockSkew is how far behind another node's clock may be: a spent challenge
// is remembered this much past its expiry, so a node that still thinks it
// valid still finds it spent.
const clockSkew = 5 * time.Second

// Verify checks that solution solves challenge and that the challenge was
// issued by this server, to this shopper, for this sale, and has not expired;
// then it spends the challenge, so the same solution fails next time with
// ErrPowReplayed. Every check but the last is a little CPU (one HMAC, one
// SHA-256); only a solution that passes them all costs a Redis round trip.
func (g *Guard) Verify(ctx context.Context, saleID, shopperID, challenge, solution string) error {
	if challenge == "" || solution == "" {
		return ErrPowRequired
	}
	now := g.Now()
	c, err := g.check(saleID, shopperID, challenge, solution, now)
	if err != nil {
		return err
	}
	// Rounded up to the millisecond: Redis keeps milliseconds, and the key
	// must not go before the challenge does.
	ttl := c.expiresAt.Sub(now).Truncate(time.Millisecond) + time.Millisecond + clockSkew
	fresh, err := g.spent.SetNX(ctx, spentKey(saleID, c.nonce[:]), 1, ttl).Result()
	if err != nil {
		return fmt.Errorf("spend pow challenge of sale %s: %w", saleID, err)
	}
	if !fresh {
		return ErrPowReplayed
	}
	return nil
}

// check does all of Verify but spending the challenge, and returns its claims.
func (g *Guard) check(saleID, shopperID, challenge, solution string, now time.Time) (claims, error) {
	c, payload, mac, err := decode(challenge)
	if err != nil {
		return c, fmt.Errorf("%w: %v", ErrPowInvalid, err)
	}
	// The mac goes first: until it checks out, nothing in the payload
	// (difficulty, expiry) can be trusted, so a tampered expiry is invalid,
	// not expired.
	if !hmac.Equal(mac, g.mac(payload, saleID, shopperID)) {
		return c, fmt.Errorf("%w: not issued by this server for sale %s and shopper %s", ErrPowInvalid, saleID, shopperID)
	}
	if !now.Before(c.expiresAt) {
		return c, fmt.Errorf("%w: at %s", ErrPowExpired, c.expiresAt.UTC().Format(time.RFC3339))
	}
	if !isCounter(solution) {
		return c, fmt.Errorf("%w: solution %.24q is not a decimal counter", ErrPowInvalid, solution)
	}
	if got := leadingZeroBits(hashOf(challenge, solution)); got < c.difficulty {
		return c, fmt.Errorf("%w: hash has %d leading zero bits, want %d", ErrPowInvalid, got, c.difficulty)
	}
	return c, nil
}

// spentKey marks a challenge of this sale as spent. It has the sale's hash tag
// {saleID}, like every key of a sale (waitingroom.Keys: "sale:{id}:..."), so it lives
// in the sale's Redis Cluster slot; it is built here because nothing else
// touches it.
func spentKey(saleID string, nonce []byte) string {
	return "sale:{" + saleID + "}:pow:" + base64.RawURLEncoding.EncodeToString(nonce)
}

// isCounter reports whether s is a counter as the hashing rule writes it:
// decimal digits without leading zeros, fitting in 64 bits. Anything else
// would make several spellings of one counter.
func isCounter(s string) bool {
	if s == "" || (len(s) > 1 && s[0] == '0') {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	_, err := strconv.ParseUint(s, 10, 64)
	return err == nil
}
