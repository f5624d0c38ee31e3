package waitingroom

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"
)

// departures gathers a node's departures, per sale, for Presence.Depart:
// in a moving sale shoppers close their sockets once they have paid, one a
// millisecond or more per node, and a round trip each cost the gateway more
// than the script it carried (docs/performance.md, "Issue 21's levers,
// fourth session").
type departures struct {
	mu      sync.Mutex
	pending map[string]*departBatch // by sale: the batch still gathering, if any
}

// departBatch is one sale's departures recorded in one call.
type departBatch struct {
	shoppers []string      // still to record: an arrival on this node takes its shopper out
	joined   int           // departures that joined, taken out or not: the batch is full at Presence.DepartMost
	full     chan struct{} // closed when joined reaches the most: the gathering ends at once
	done     chan struct{} // closed once recorded; err is then set
	err      error
}

// join adds a departure to the sale's gathering batch, starting one if none
// gathers. The first departure of a batch leads it: it records the batch.
func (d *departures) join(saleID, shopperID string, most int) (b *departBatch, leads bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	b = d.pending[saleID]
	if b == nil {
		if d.pending == nil {
			d.pending = make(map[string]*departBatch)
		}
		b = &departBatch{full: make(chan struct{}), done: make(chan struct{})}
		d.pending[saleID] = b
		leads = true
	}
	b.shoppers = append(b.shoppers, shopperID)
	b.joined++
	if b.joined == most {
		close(b.full)
		delete(d.pending, saleID) // later departures start a batch of their own
	}
	return b, leads
}

// take ends b's gathering and returns the shoppers to record.
func (d *departures) take(saleID string, b *departBatch) []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.pending[saleID] == b {
		delete(d.pending, saleID)
	}
	taken := b.shoppers
	b.shoppers = nil
	return taken
}

// cancel takes a shopper's departure out of the sale's gathering batch: a
// connection of it opened on this node before the departure was recorded, so
// the shopper never left. Once the batch is being recorded it is too late,
// as it is for an arrival that meets a departure's round trip.
func (d *departures) cancel(saleID, shopperID string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if b := d.pending[saleID]; b != nil {
		b.shoppers = slices.DeleteFunc(b.shoppers, func(s string) bool { return s == shopperID })
	}
}

// gathering is how many departures of the sale wait to be recorded (tests).
func (d *departures) gathering(saleID string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	if b := d.pending[saleID]; b != nil {
		return len(b.shoppers)
	}
	return 0
}

// Depart records that the shopper's last connection on this node closed. The
// departures of DepartGather are recorded together, in one round trip; it
// returns once this one is recorded (or, when a connection of the shopper
// opened here meanwhile, dropped).
func (p *Presence) Depart(ctx context.Context, saleID, shopperID string) error {
	if p.DepartGather <= 0 || p.DepartMost <= 1 {
		return p.recordDepartures(ctx, saleID, []string{shopperID})
	}
	b, leads := p.departing.join(saleID, shopperID, p.DepartMost)
	if !leads {
		select {
		case <-b.done:
			return b.err
		case <-ctx.Done():
			return fmt.Errorf("shopper %s departs from sale %s: %w", shopperID, saleID, ctx.Err())
		}
	}
	defer close(b.done)
	gather := time.NewTimer(p.DepartGather)
	select {
	case <-gather.C:
	case <-b.full:
		gather.Stop()
	case <-ctx.Done():
		gather.Stop()
	}
	b.err = p.recordDepartures(ctx, saleID, p.departing.take(saleID, b))
	return b.err
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
