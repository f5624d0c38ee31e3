package identity

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisSpender keeps spent token ids in Redis, each under a key of its own
// (identity:jti:<jti>) that expires with the token, so every node refuses a
// token any node accepted.
type RedisSpender struct {
	rdb redis.UniversalClient
}

// NewRedisSpender returns a Spender over rdb.
func NewRedisSpender(rdb redis.UniversalClient) *RedisSpender { return &RedisSpender{rdb: rdb} }

// JTIKey is the key a spent token id is kept under.
func JTIKey(jti string) string { return "identity:jti:" + jti }

// SpendOnce sets the id's key if it is absent (SET NX), until until.
func (s *RedisSpender) SpendOnce(ctx context.Context, jti string, until time.Time) (bool, error) {
	ttl := time.Until(until)
	if ttl < time.Second {
		ttl = time.Second
	}
	ok, err := s.rdb.SetNX(ctx, JTIKey(jti), 1, ttl).Result()
	if err != nil {
		return false, fmt.Errorf("spend identity token %q: %w", jti, err)
	}
	return ok, nil
}
