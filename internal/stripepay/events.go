package stripepay

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// EventTTL is how long an event id is remembered: a bit beyond the three
// days Stripe retries an event it could not deliver, so that every retry
// of an event handed on is known, and no id is kept for ever.
const EventTTL = 72*time.Hour + time.Hour

// Events remembers the ids of the Stripe events handed to the workers, so
// that one Stripe sends again (a retry, or a replay from its dashboard) is
// acknowledged and not settled again. Its keys belong to no sale, so they
// carry no sale's hash tag; each expires after TTL.
type Events struct {
	rdb redis.UniversalClient
	// TTL is how long an id is kept. Defaults to EventTTL.
	TTL time.Duration
}

// NewEvents returns Events that keep their ids in rdb.
func NewEvents(rdb redis.UniversalClient) *Events { return &Events{rdb: rdb, TTL: EventTTL} }

func eventKey(id string) string { return "stripe:event:" + id }

// Claim records the event id and says whether it is the first to: false
// means it was handed on already (or is being handed on now).
func (e *Events) Claim(ctx context.Context, id string) (bool, error) {
	first, err := e.rdb.SetNX(ctx, eventKey(id), 1, e.TTL).Result()
	if err != nil {
		return false, fmt.Errorf("claim stripe event %s: %w", id, err)
	}
	return first, nil
}

// Release forgets a claimed id whose event could not be handed on, so
// that Stripe's retry of it is taken.
func (e *Events) Release(ctx context.Context, id string) error {
	if err := e.rdb.Del(ctx, eventKey(id)).Err(); err != nil {
		return fmt.Errorf("release stripe event %s: %w", id, err)
	}
	return nil
}
