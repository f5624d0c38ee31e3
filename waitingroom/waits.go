package waitingroom

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

// How long shoppers waited is counted at admission, not kept per shopper:
// admit.lua adds each shopper it lets out to a histogram of waits by the
// minute the shopper arrived in (its ticket's first arrivals mark, which
// tick.lua writes), in the sale's history hash. A bucket spans a ratio of
// 2^(1/8), so a percentile read from the buckets is off by at most that
// ratio's square root (4.4 %), plus at most one admission tick: a ticket's
// arrival is the first tick that saw it.

// WaitBucketsPerDoubling is how many buckets of the wait histogram span a
// doubling of the wait. lib.lua's wait_bucket spells the same.
const WaitBucketsPerDoubling = 8

// WaitBucket is the bucket a wait of ms milliseconds is counted in: 0 below
// 1 ms, else 1 + floor(8 log2 ms), as wait_bucket in lib.lua.
func WaitBucket(ms int64) int {
	if ms < 1 {
		return 0
	}
	return 1 + int(math.Floor(WaitBucketsPerDoubling*math.Log2(float64(ms))))
}

// WaitBucketBounds are the waits (ms) bucket b counts, from lo up to but
// not including hi.
func WaitBucketBounds(b int) (lo, hi float64) {
	if b <= 0 {
		return 0, 1
	}
	return math.Exp2(float64(b-1) / WaitBucketsPerDoubling), math.Exp2(float64(b) / WaitBucketsPerDoubling)
}

// MinuteWaits are the waits of the shoppers who arrived in one minute and
// have been let out.
type MinuteWaits struct {
	Minute  int64         `json:"minute"`  // arrival minute, unix seconds / 60
	Buckets map[int]int64 `json:"buckets"` // bucket (WaitBucket) -> shoppers
	MaxMs   int64         `json:"max_ms"`  // the longest wait, exact
}

// Shoppers is how many shoppers the minute's buckets count.
func (m MinuteWaits) Shoppers() int64 {
	var n int64
	for _, c := range m.Buckets {
		n += c
	}
	return n
}

// History is what a sale's scripts counted for its post-sale report.
type History struct {
	// Waits are the wait histograms by arrival minute, earliest first.
	Waits []MinuteWaits `json:"waits"`
	// HoldsLapsed are holds released because their batch's time ran out
	// unpaid; HoldsAway those released because their shopper was away past
	// the grace period.
	HoldsLapsed int64 `json:"holds_lapsed"`
	HoldsAway   int64 `json:"holds_away"`
}

// History reads the sale's history hash: one command, O(minutes × buckets
// used), for a report or its copy into Postgres, never a hot path. A sale
// Redis does not have answers ErrSaleNotFound.
func (r *Rooms) History(ctx context.Context, saleID string) (History, error) {
	k := Keys(saleID)
	var exists *redis.IntCmd
	var all *redis.MapStringStringCmd
	_, err := r.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		exists = p.Exists(ctx, k.Meta)
		all = p.HGetAll(ctx, k.History)
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return History{}, fmt.Errorf("read history of sale %s: %w", saleID, err)
	}
	if exists.Val() == 0 {
		return History{}, fmt.Errorf("read history of sale %s: %w", saleID, ErrSaleNotFound)
	}
	h, err := parseHistory(all.Val())
	if err != nil {
		return History{}, fmt.Errorf("read history of sale %s: %w", saleID, err)
	}
	return h, nil
}

// parseHistory reads the fields admit.lua and tick.lua write.
func parseHistory(fields map[string]string) (History, error) {
	h := History{Waits: []MinuteWaits{}}
	minutes := map[int64]*MinuteWaits{}
	minute := func(m int64) *MinuteWaits {
		if minutes[m] == nil {
			minutes[m] = &MinuteWaits{Minute: m, Buckets: map[int]int64{}}
		}
		return minutes[m]
	}
	for field, value := range fields {
		n, err := strconv.ParseInt(value, 10, 64)
		if err != nil {
			return History{}, fmt.Errorf("field %s: %w", field, err)
		}
		parts := strings.Split(field, ":")
		switch {
		case field == "lapsed":
			h.HoldsLapsed = n
		case field == "away":
			h.HoldsAway = n
		case parts[0] == "w" && len(parts) == 3:
			m, err1 := strconv.ParseInt(parts[1], 10, 64)
			b, err2 := strconv.Atoi(parts[2])
			if err := errors.Join(err1, err2); err != nil {
				return History{}, fmt.Errorf("field %s: %w", field, err)
			}
			minute(m).Buckets[b] += n
		case parts[0] == "max" && len(parts) == 2:
			m, err := strconv.ParseInt(parts[1], 10, 64)
			if err != nil {
				return History{}, fmt.Errorf("field %s: %w", field, err)
			}
			minute(m).MaxMs = n
		default:
			return History{}, fmt.Errorf("unknown history field %q", field)
		}
	}
	for _, m := range minutes {
		h.Waits = append(h.Waits, *m)
	}
	slices.SortFunc(h.Waits, func(a, b MinuteWaits) int { return cmp.Compare(a.Minute, b.Minute) })
	return h, nil
}

// Percentile is the wait (ms) at quantile q (0 < q <= 1) of the minute's
// shoppers, by nearest rank: the geometric middle of the bucket the rank
// falls in, never above the exact longest wait. 0 when nobody is counted.
func (m MinuteWaits) Percentile(q float64) float64 {
	n := m.Shoppers()
	if n == 0 {
		return 0
	}
	rank := max(1, int64(math.Ceil(q*float64(n))))
	buckets := make([]int, 0, len(m.Buckets))
	for b := range m.Buckets {
		buckets = append(buckets, b)
	}
	slices.Sort(buckets)
	var seen int64
	for _, b := range buckets {
		seen += m.Buckets[b]
		if seen >= rank {
			lo, hi := WaitBucketBounds(b)
			if b == 0 {
				return 0
			}
			return min(math.Sqrt(lo*hi), float64(m.MaxMs))
		}
	}
	return float64(m.MaxMs)
}

// MergeWaits adds minutes' histograms into one (for a whole sale); its
// Minute is the earliest.
func MergeWaits(minutes []MinuteWaits) MinuteWaits {
	all := MinuteWaits{Buckets: map[int]int64{}}
	for i, m := range minutes {
		if i == 0 || m.Minute < all.Minute {
			all.Minute = m.Minute
		}
		for b, n := range m.Buckets {
			all.Buckets[b] += n
		}
		all.MaxMs = max(all.MaxMs, m.MaxMs)
	}
	return all
}
