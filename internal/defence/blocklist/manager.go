package blocklist

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Manager changes the list. Any node or tool may hold one; every change
// reaches all Watchers.
type Manager struct {
	rdb redis.UniversalClient
	now func() time.Time
}

// NewManager returns a Manager of the list in rdb.
func NewManager(rdb redis.UniversalClient) *Manager {
	return &Manager{rdb: rdb, now: time.Now}
}

// Add blocks value as a kind ("203.0.113.7" as KindIP, "198.51.100.0/24" as
// KindNetwork, a shopper id as KindShopper) and returns the entry as stored.
// Adding an entry again replaces its reason and time. A value that is not a
// valid kind, or a bad reason (checkReason), fails with ErrBadEntry and
// changes nothing.
//
// Add is safe to retry: should it fail after storing the entry but before
// bumping the version, watchers would not notice it until the next change.
func (m *Manager) Add(ctx context.Context, kind Kind, value, reason string) (Entry, error) {
	c, err := canonical(kind, value)
	if err != nil {
		return Entry{}, fmt.Errorf("block: %w", err)
	}
	if err := checkReason(reason); err != nil {
		return Entry{}, fmt.Errorf("block %s:%s: %w", kind, c, err)
	}
	e := Entry{Kind: kind, Value: c, Reason: reason, AddedAt: m.now().Truncate(time.Millisecond)}
	raw, err := json.Marshal(stored{Reason: e.Reason, AddedAt: e.AddedAt.UnixMilli()})
	if err != nil {
		return Entry{}, fmt.Errorf("block %s: %w", e.field(), err)
	}
	if err := m.rdb.HSet(ctx, listKey, e.field(), raw).Err(); err != nil {
		return Entry{}, fmt.Errorf("block %s: %w", e.field(), err)
	}
	if err := m.announce(ctx); err != nil {
		return Entry{}, fmt.Errorf("block %s: %w", e.field(), err)
	}
	return e, nil
}

// Remove unblocks value as a kind, given in any form Add accepts. It fails
// with ErrNotFound when the entry is not on the list, and with ErrBadEntry
// when value is not a valid kind.
func (m *Manager) Remove(ctx context.Context, kind Kind, value string) error {
	c, err := canonical(kind, value)
	if err != nil {
		return fmt.Errorf("unblock: %w", err)
	}
	field := Entry{Kind: kind, Value: c}.field()
	n, err := m.rdb.HDel(ctx, listKey, field).Result()
	if err != nil {
		return fmt.Errorf("unblock %s: %w", field, err)
	}
	if n == 0 {
		return fmt.Errorf("unblock %s: %w", field, ErrNotFound)
	}
	if err := m.announce(ctx); err != nil {
		return fmt.Errorf("unblock %s: %w", field, err)
	}
	return nil
}

// List returns the entries on the list, sorted by kind and value.
func (m *Manager) List(ctx context.Context) ([]Entry, error) {
	entries, _, err := readAll(ctx, m.rdb)
	return entries, err
}

// announce bumps the version, which every watcher polls, after the list has
// changed, then tells the subscribed watchers at once.
func (m *Manager) announce(ctx context.Context) error {
	v, err := m.rdb.Incr(ctx, versionKey).Result()
	if err != nil {
		return fmt.Errorf("bump blocklist version: %w", err)
	}
	// A notice that fails to go out is what the watchers' poll is for: the
	// change is stored and versioned, so it is not an error of the change.
	m.rdb.Publish(ctx, changesChannel, v)
	return nil
}
