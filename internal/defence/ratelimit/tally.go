package ratelimit

import (
	"context"
	_ "embed"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

//go:embed lua/tally.lua
var tallySource string

var tallyScript = redis.NewScript(tallySource)

// Tally counts events per key (an IP, say) over a fixed window, across every
// node: one counter per key in Redis, at foyer:rl:tally:<name>:<key>, which
// expires a window after the key's first event. It limits nothing itself: a
// caller reads the count and decides (the signal many_identities).
type Tally struct {
	rdb  redis.UniversalClient
	name string
	// Window is how long a key's count runs from its first event. Defaults
	// to 10 minutes.
	Window time.Duration
	// Timeout bounds how long Add waits for Redis; see Limiter.Timeout.
	// Defaults to 200ms.
	Timeout time.Duration
}

// NewTally returns a tally named name ("sessions"), with the defaults
// documented on its fields.
func NewTally(rdb redis.UniversalClient, name string) *Tally {
	return &Tally{rdb: rdb, name: name, Window: 10 * time.Minute, Timeout: defaultTimeout}
}

// Add counts one event for key and returns the key's count in the current
// window, this event included. On error the count is 0: like the limits, a
// tally fails open.
func (t *Tally) Add(ctx context.Context, key string) (int64, error) {
	ctx, cancel := withTimeout(ctx, t.Timeout)
	defer cancel()
	n, err := tallyScript.Run(ctx, t.rdb, []string{keyPrefix + "tally:" + t.name + ":" + key},
		t.Window.Milliseconds()).Int64()
	if err != nil {
		return 0, fmt.Errorf("tally %s for %s: %w", t.name, key, err)
	}
	return n, nil
}
