package waitingroom

import (
	"context"
	"fmt"
	"slices"

	"github.com/redis/go-redis/v9"
)

// In a storm a node's arrivals at a sale overlap: each read the sale's
// status and ran its scripts in a round trip of its own. Those asked while
// one is on its way now go together when it is back (gather.Line): one
// round trip, one read of the status for them all, read after each of
// them was asked.

// arrivalAsk is one arrival of ArriveAndJoinWith: its shopper, its join's
// keys and arguments (none: it does not join), and the scripts riding
// along with it.
type arrivalAsk struct {
	shopper  string
	joinKeys []string
	joinArgv []any
	also     []Piped

	arrived, joined *redis.Cmd
}

// sendArrivals reads the sale's status and records asks' arrivals and
// joins, in one round trip; the scripts Redis had lost (NOSCRIPT) did not
// run and are sent again whole, those of every ask in one more.
func (p *Presence) sendArrivals(ctx context.Context, saleID string, asks []*arrivalAsk) ([]Arrival, []error) {
	k := Keys(saleID)
	arriveKeys := []string{k.Nodes, k.Conns(p.node), k.Away, k.Present, k.Meta}
	var status func() (Status, error)
	_, _ = p.rdb.Pipelined(ctx, func(pipe redis.Pipeliner) error {
		status = pipeStatus(ctx, pipe, saleID)
		for _, a := range asks {
			for _, also := range a.also {
				also.Queue(ctx, pipe, false)
			}
			a.arrived = arriveScript.EvalSha(ctx, pipe, arriveKeys, p.node, a.shopper)
			if a.joinKeys != nil {
				a.joined = joinScript.EvalSha(ctx, pipe, a.joinKeys, a.joinArgv...)
			}
		}
		return nil
	})
	lost := func(cmd *redis.Cmd) bool { return cmd != nil && redis.HasErrorPrefix(cmd.Err(), "NOSCRIPT") }
	anyLost := false
	for _, a := range asks {
		anyLost = anyLost || lost(a.arrived) || lost(a.joined) || slices.ContainsFunc(a.also, Piped.NoScript)
	}
	if anyLost {
		_, _ = p.rdb.Pipelined(ctx, func(pipe redis.Pipeliner) error {
			for _, a := range asks {
				for _, also := range a.also {
					if also.NoScript() {
						also.Queue(ctx, pipe, true)
					}
				}
				if lost(a.arrived) {
					a.arrived = arriveScript.Eval(ctx, pipe, arriveKeys, p.node, a.shopper)
				}
				if lost(a.joined) {
					a.joined = joinScript.Eval(ctx, pipe, a.joinKeys, a.joinArgv...)
				}
			}
			return nil
		})
	}

	arrivals, errs := make([]Arrival, len(asks)), make([]error, len(asks))
	st, err := status()
	if err == nil && len(st.productSKUs) > 0 { // an event's welcome shows its products
		rooms := NewRooms(p.rdb)
		if err = rooms.fillProducts(ctx, &st); err == nil {
			err = rooms.showProducts(ctx, &st)
		}
	}
	for i, a := range asks {
		if err != nil {
			errs[i] = err
			continue
		}
		// Each its own copy: a caller may change what it was given.
		own := st
		own.Products, own.productSKUs = slices.Clone(st.Products), slices.Clone(st.productSKUs)
		arrivals[i] = Arrival{Status: own}
		if err := a.arrived.Err(); err != nil {
			arrivals[i].ArriveErr = fmt.Errorf("shopper %s arrives at sale %s: %w", a.shopper, saleID, err)
		}
		if a.joinKeys != nil {
			reply, err := a.joined.Slice()
			arrivals[i].Place, arrivals[i].JoinErr = placeOf(saleID, reply, err)
		}
	}
	return arrivals, errs
}
