package waitingroom

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"
)

// Counters are a sale's running totals, as its history samples them each
// second (internal/salehistory).
type Counters struct {
	State     State
	Joined    int64 // tickets given out, and prequeue joiners not yet drawn
	Admitted  int64 // shoppers let out with a hold
	Sold      int64 // units sold (confirmed checkouts)
	Waiting   int64 // in the queue and the prequeue
	Available int64 // units neither held nor sold
	Held      int64
}

// CountersOf reads the counters of several sales in one round trip. A sale
// Redis does not have is left out.
func (r *Rooms) CountersOf(ctx context.Context, saleIDs []string) (map[string]Counters, error) {
	type read struct {
		meta       *redis.SliceCmd
		queue, pre *redis.IntCmd
	}
	reads := make([]read, len(saleIDs))
	_, err := r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range saleIDs {
			k := Keys(id)
			reads[i] = read{p.HMGet(ctx, k.Meta, "state", "seq", "preseq", "seed", "admitted", "sold", "available", "held"),
				p.ZCard(ctx, k.Queue), p.ZCard(ctx, k.Pre)}
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("read the counters of %d sales: %w", len(saleIDs), err)
	}
	out := make(map[string]Counters, len(saleIDs))
	for i, id := range saleIDs {
		v := reads[i].meta.Val()
		if len(v) == 0 || v[0] == nil {
			continue
		}
		str := func(i int) string { s, _ := v[i].(string); return s }
		num := func(i int) int64 { n, _ := strconv.ParseInt(str(i), 10, 64); return n }
		joined := num(1)
		if str(3) == "" { // not drawn yet: prequeue joiners have no ticket
			joined += num(2)
		}
		out[id] = Counters{State: State(str(0)), Joined: joined, Admitted: num(4), Sold: num(5),
			Waiting: reads[i].queue.Val() + reads[i].pre.Val(), Available: num(6), Held: num(7)}
	}
	return out, nil
}
