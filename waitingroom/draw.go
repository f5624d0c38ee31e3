package waitingroom

import (
	"context"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

// newSeed returns a fresh secret seed for a sale's draw and the SHA-256 of
// it, which is published when the prequeue opens: a commitment that the
// draw's order was fixed before anyone could see it.
func newSeed() (seed, hash string) {
	seed = rand.Text()
	sum := sha256.Sum256([]byte(seed))
	return seed, hex.EncodeToString(sum[:])
}

// DrawOrder returns prequeue tickets in the order a seed draws them: by
// SHA-1(seed + ":" + ticket), in hex, ascending. join.lua files each
// prequeue joiner under that key and tick.lua hands out tickets in its order;
// anyone can recompute it (docs/fairness.md).
func DrawOrder(seed string, tickets []int64) []int64 {
	type keyed struct {
		key    string
		ticket int64
	}
	list := make([]keyed, len(tickets))
	for i, t := range tickets {
		sum := sha1.Sum([]byte(seed + ":" + strconv.FormatInt(t, 10)))
		list[i] = keyed{hex.EncodeToString(sum[:]), t}
	}
	slices.SortFunc(list, func(a, b keyed) int { return strings.Compare(a.key, b.key) })
	order := make([]int64, len(list))
	for i, k := range list {
		order[i] = k.ticket
	}
	return order
}

// Draw is what a sale publishes about its prequeue draw: the seed's hash
// from the moment the prequeue opens, and from the start the seed itself and
// the drawn order of the prequeue tickets.
type Draw struct {
	SeedHash string  `json:"seed_hash"`
	Seed     string  `json:"seed,omitempty"`
	Tickets  []int64 `json:"tickets,omitempty"` // prequeue tickets in drawn order: place i+1 went to Tickets[i]
}

// Draw returns the sale's draw as far as it may be told.
func (r *Rooms) Draw(ctx context.Context, saleID string) (Draw, error) {
	k := Keys(saleID)
	var fields *redis.SliceCmd
	var order *redis.StringCmd
	_, err := r.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		fields = p.HMGet(ctx, k.Meta, "state", "seed_hash", "seed")
		order = p.Get(ctx, k.Draw)
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return Draw{}, fmt.Errorf("read draw of sale %s: %w", saleID, err)
	}
	v := fields.Val()
	if v[0] == nil {
		return Draw{}, fmt.Errorf("read draw of sale %s: %w", saleID, ErrSaleNotFound)
	}
	d := Draw{}
	d.SeedHash, _ = v[1].(string)
	d.Seed, _ = v[2].(string)
	if d.Seed != "" {
		for _, f := range strings.Fields(order.Val()) {
			t, err := strconv.ParseInt(f, 10, 64)
			if err != nil {
				return Draw{}, fmt.Errorf("read draw of sale %s: ticket %q: %w", saleID, f, err)
			}
			d.Tickets = append(d.Tickets, t)
		}
	}
	return d, nil
}

// Tickets returns the queue tickets of the given shoppers, in one round trip
// per thousand, for a node learning where the draw put its shoppers. A
// shopper no longer in the queue is left out.
func (r *Rooms) Tickets(ctx context.Context, saleID string, shoppers []string) (map[string]int64, error) {
	k := Keys(saleID)
	tickets := make(map[string]int64, len(shoppers))
	for chunk := range slices.Chunk(shoppers, 1000) {
		scores, err := r.rdb.ZMScore(ctx, k.Queue, chunk...).Result()
		if err != nil {
			return nil, fmt.Errorf("read tickets of sale %s: %w", saleID, err)
		}
		for i, s := range scores {
			if s > 0 {
				tickets[chunk[i]] = int64(s)
			}
		}
	}
	return tickets, nil
}
