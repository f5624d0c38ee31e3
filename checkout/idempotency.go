package checkout

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/foyerhq/foyer/waitingroom"
)

// Errors of idempotent requests.
var (
	// ErrRequestInProgress means a request with the same Idempotency-Key is
	// still being answered.
	ErrRequestInProgress = errors.New("a request with this idempotency key is in progress")
	// ErrKeyReused means an Idempotency-Key came back with another request.
	ErrKeyReused = errors.New("idempotency key used for another request")
)

// answerTTL is how long an answer is kept for replays; inFlightTTL bounds
// how long a request that never finished (its node died) blocks its key.
const (
	answerTTL   = 24 * time.Hour
	inFlightTTL = 30 * time.Second
)

// Answer is a stored reply to an idempotent request.
type Answer struct {
	Status      int             `json:"status"`
	Body        json.RawMessage `json:"body,omitempty"`
	Fingerprint string          `json:"fingerprint"` // what the request was, so a reused key is noticed
	InFlight    bool            `json:"in_flight,omitempty"`
}

// Answers remembers the replies to checkouts by their Idempotency-Key, per
// sale and shopper, so that a client that retries a checkout gets the first
// answer again and nothing happens twice. The shopper is the subject of a
// reservation token that verified: only such a request may claim a key, so
// junk cannot fill Redis, and one shopper's key never blocks another's.
type Answers struct {
	rdb redis.UniversalClient
}

// NewAnswers returns answers kept in rdb.
func NewAnswers(rdb redis.UniversalClient) *Answers { return &Answers{rdb: rdb} }

// AnswerKey is where the answer to a shopper's request with this
// Idempotency-Key is kept, in the sale's hash slot. Keys are the shopper's
// own: two shoppers may pick the same one without meeting. Shopper ids have
// no colon, so the shopper and the key cannot run into each other.
func AnswerKey(saleID, shopper, key string) string {
	return waitingroom.Keys(saleID).Beside("idem:" + shopper + ":" + key)
}

// Begin claims a key for a request with this fingerprint. It returns the
// stored answer of an earlier request with the same key, or nil when this
// request is the first and must be answered (then call Finish or Abandon).
// One round trip either way: SET NX with GET claims a free key, or returns
// what holds it (Redis 7.0 and later), where SETNX then GET took two for a
// retry and could find the key expired in between.
func (a *Answers) Begin(ctx context.Context, saleID, shopper, key, fingerprint string) (*Answer, error) {
	marker, _ := json.Marshal(Answer{Fingerprint: fingerprint, InFlight: true})
	held, err := a.rdb.SetArgs(ctx, AnswerKey(saleID, shopper, key), marker,
		redis.SetArgs{Mode: "NX", TTL: inFlightTTL, Get: true}).Result()
	if errors.Is(err, redis.Nil) { // nothing held it: claimed
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("claim idempotency key: %w", err)
	}
	var stored Answer
	if err := json.Unmarshal([]byte(held), &stored); err != nil {
		return nil, fmt.Errorf("decode idempotent answer: %w", err)
	}
	switch {
	case stored.Fingerprint != fingerprint:
		return nil, ErrKeyReused
	case stored.InFlight:
		return nil, ErrRequestInProgress
	}
	return &stored, nil
}

// Finish stores the answer to a request that Begin let through.
func (a *Answers) Finish(ctx context.Context, saleID, shopper, key string, ans Answer) error {
	raw, _ := json.Marshal(ans)
	if err := a.rdb.Set(ctx, AnswerKey(saleID, shopper, key), raw, answerTTL).Err(); err != nil {
		return fmt.Errorf("store idempotent answer: %w", err)
	}
	return nil
}

// Abandon frees a key whose request failed in a way worth retrying (our
// fault, not the client's), so the retry is answered afresh.
func (a *Answers) Abandon(ctx context.Context, saleID, shopper, key string) error {
	return a.rdb.Del(ctx, AnswerKey(saleID, shopper, key)).Err()
}

// idempotencyKeyCtx carries a checkout's idempotency key to Checkout.
type idempotencyKeyCtx struct{}

// WithIdempotencyKey returns ctx carrying the Idempotency-Key (with its
// shopper's claim on it already made through Answers.Begin) of the checkout
// it is for. Checkout records a digest of it with the reservation it
// confirms, so that the same request sent again, after its stored answer
// was lost (its client gone, its node down before Finish), is answered as
// the confirmation it was rather than as a reused token. It rides in the
// context, as request-scoped data, so callers without a key change nothing.
func WithIdempotencyKey(ctx context.Context, key string) context.Context {
	return context.WithValue(ctx, idempotencyKeyCtx{}, key)
}

// keyDigest is the digest of ctx's idempotency key that a reservation
// records (bounded, whatever the key's length), or "" without one.
func keyDigest(ctx context.Context) string {
	key, _ := ctx.Value(idempotencyKeyCtx{}).(string)
	if key == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:16])
}
