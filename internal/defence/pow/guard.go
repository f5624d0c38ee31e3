package pow

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"
)

// MaxDifficulty bounds the difficulty of a challenge: 2^32 hashes is hours
// in a browser, so anything above is a mistake, not a setting.
const MaxDifficulty = 32

// minSecretSize is the shortest secret NewGuard takes: an HMAC key shorter
// than 128 bits is guessable offline from one challenge.
const minSecretSize = 16

// SpentChallenges is the part of Redis a Guard needs: SET NX with a TTL, to
// spend each challenge once. *redis.Client, *redis.ClusterClient and
// redis.UniversalClient all fit.
type SpentChallenges interface {
	SetNX(ctx context.Context, key string, value any, expiration time.Duration) *redis.BoolCmd
}

// Guard issues proof-of-work challenges and verifies their solutions. It is
// safe for concurrent use once its fields are set.
type Guard struct {
	// TTL is how long a challenge can be solved and verified after Issue: long
	// enough for a slow phone to solve the hardest difficulty a sale uses,
	// short enough that a raised difficulty soon applies to everyone.
	// Defaults to 2 minutes.
	TTL time.Duration

	// Now tells the time; tests move it. Defaults to time.Now.
	Now func() time.Time

	secret []byte
	spent  SpentChallenges
}

// NewGuard returns a Guard that signs challenges with secret (at least 16
// bytes; give it its own secret, not one that signs anything else) and
// records spent challenges in spent.
func NewGuard(secret []byte, spent SpentChallenges) (*Guard, error) {
	if len(secret) < minSecretSize {
		return nil, errors.New("pow: the secret must be at least 16 bytes")
	}
	if spent == nil {
		return nil, errors.New("pow: no store for spent challenges")
	}
	return &Guard{
		TTL:    2 * time.Minute,
		Now:    time.Now,
		secret: append([]byte(nil), secret...),
		spent:  spent,
	}, nil
}
