package blocklist

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/redis/go-redis/v9"
)

// The keys every node shares. They are not hash-tagged and no command spans
// two of them, so the layout runs unchanged on Redis Cluster.
const (
	listKey        = "foyer:blocklist"         // hash: "<kind>:<value>" -> stored JSON
	versionKey     = "foyer:blocklist:version" // counter: bumped after every change
	changesChannel = "foyer:blocklist:changed" // pub/sub: the new version, after every change
)

// stored is an entry's value in the hash; kind and value are in its field.
type stored struct {
	Reason  string `json:"reason,omitempty"`
	AddedAt int64  `json:"added_at"` // unix ms
}

// readAll returns the valid entries of the list, sorted by field, and the
// fields it could not read, for the caller to report.
func readAll(ctx context.Context, rdb redis.UniversalClient) (entries []Entry, bad []string, err error) {
	fields, err := rdb.HGetAll(ctx, listKey).Result()
	if err != nil {
		return nil, nil, fmt.Errorf("read blocklist: %w", err)
	}
	entries = make([]Entry, 0, len(fields))
	for field, raw := range fields {
		kind, value, err := parseField(field)
		var s stored
		if err == nil {
			err = json.Unmarshal([]byte(raw), &s)
		}
		if err != nil {
			bad = append(bad, field)
			continue
		}
		entries = append(entries, Entry{Kind: kind, Value: value, Reason: s.Reason, AddedAt: time.UnixMilli(s.AddedAt)})
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].field() < entries[j].field() })
	sort.Strings(bad)
	return entries, bad, nil
}
