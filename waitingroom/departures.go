package waitingroom

import (
	"context"
	"fmt"
	"slices"
)

// A node's departures are gathered per sale (gather.Batches) for
// Presence.Depart: in a moving sale shoppers close their sockets once they
// have paid, one a millisecond or more per node, and a round trip each cost
// the gateway more than the script it carried (docs/performance.md, "Issue
// 21's levers, fourth session").

// Depart records that the shopper's last connection on this node closed. The
// departures of DepartGather are recorded together, in one round trip; it
// returns once this one is recorded (or, when a connection of the shopper
// opened here meanwhile, dropped).
func (p *Presence) Depart(ctx context.Context, saleID, shopperID string) error {
	err := p.departing.Do(ctx, saleID, shopperID, p.DepartGather, p.DepartMost, p.sendDepartures)
	if err != nil && err == ctx.Err() { // a caller who stopped waiting: its departure still goes with its batch
		return fmt.Errorf("shopper %s departs from sale %s: %w", shopperID, saleID, err)
	}
	return err
}

// sendDepartures records the departures of a batch, each told the batch's error.
func (p *Presence) sendDepartures(ctx context.Context, saleID string, shopperIDs []string) []error {
	err := p.recordDepartures(ctx, saleID, shopperIDs)
	errs := make([]error, len(shopperIDs))
	for i := range errs {
		errs[i] = err
	}
	return errs
}

// cancelDeparture takes a shopper's departure out of the sale's gathering
// batch: a connection of it opened on this node before the departure was
// recorded, so the shopper never left. Once the batch is being recorded it
// is too late, as it is for an arrival that meets a departure's round trip.
func (p *Presence) cancelDeparture(saleID, shopperID string) {
	p.departing.Drop(saleID, func(s string) bool { return s == shopperID })
}

// recordDepartures runs depart.lua for the shoppers, a thousand a call at
// most (arriveChunk), so one call never holds Redis for long.
func (p *Presence) recordDepartures(ctx context.Context, saleID string, shopperIDs []string) error {
	k := Keys(saleID)
	for chunk := range slices.Chunk(shopperIDs, arriveChunk) {
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		err := departScript.Run(ctx, p.rdb, []string{k.Conns(p.node), k.Present, k.Away}, args...).Err()
		if err != nil {
			return fmt.Errorf("%d shoppers depart from sale %s: %w", len(chunk), saleID, err)
		}
	}
	return nil
}
