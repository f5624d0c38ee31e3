package webhooks

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/foyerhq/foyer/internal/clock"
)

// claimAhead is how many deliveries a lane may hold, per one it may have
// in flight (Config.InFlight): those queued for a sender, in flight, and
// those whose outcome waits to be recorded. Claims and records are round
// trips to Postgres; holding many more than InFlight lets each take many
// deliveries at once while the senders keep sending (4 gave 0.22 of the
// rate of bare POSTs, 16 0.47, 32 0.51 to 0.60: docs/performance.md). A
// held delivery costs its body in memory, and nothing in the database.
const claimAhead = 32

// runLane sends an endpoint's due deliveries as a pipeline, while it holds
// the endpoint's lease: InFlight senders post them; the lane claims more
// as soon as any are done, while the others are still being sent; and its
// recorder writes every outcome that came in meanwhile in one statement.
// (It used to claim InFlight, lease each by a write, wait for the slowest
// answer, and commit the outcomes one by one: a twelfth of the rate of
// bare POSTs.)
//
// Order per ordering key: claim takes only the first pending delivery of a
// key, leaving out those the lane holds; one it holds stays pending until
// its outcome is recorded, and only then leaves the lane's hands; so the
// next of its key is claimed only after that, and only if the earlier was
// delivered or is dead (one to be retried is pending still). So never two
// of one key are held at once, and the queue may send in any order.
func (d *Dispatcher) runLane(ctx context.Context, t target) {
	st, ok := d.prepare(ctx, t)
	if !ok {
		return
	}
	defer st.close()
	most := claimAhead * d.cfg.InFlight
	held := make(chan struct{}, most) // a token per delivery held
	var holding heldSet
	var lease laneLease
	var failing atomic.Bool // records fail: claim nothing until they pass
	queue := make(chan claimed, most)
	done := make(chan attempted, most)
	// wake tells the claimer that outcomes were recorded: a key's next
	// delivery may be due now.
	wake := make(chan struct{}, 1)

	var senders sync.WaitGroup
	for range d.cfg.InFlight {
		senders.Add(1)
		go func() {
			defer senders.Done()
			for c := range queue {
				// An attempt starts only while the lease outlasts it: past
				// that, another dispatcher may take the endpoint over.
				if ctx.Err() != nil || !lease.covers(time.Now().Add(d.cfg.Timeout)) {
					done <- attempted{claimed: c, cut: true}
					continue
				}
				o := d.send(ctx, t, c)
				done <- attempted{claimed: c, outcome: o, cut: ctx.Err() != nil && o.err != ""}
			}
		}()
	}
	recorded := make(chan struct{})
	go func() {
		defer close(recorded)
		release := func(part []attempted) {
			holding.drop(part) // recorded: the claim may see them again
			for range part {
				<-held
			}
			select {
			case wake <- struct{}{}:
			default:
			}
		}
		for batch := range gather(done, most) {
			d.recordHeld(ctx, st, t, &lease, batch, done, &failing, release)
		}
	}()
	// The lease is renewed on its own schedule, not only between claims
	// (a claim may wait long for room when the endpoint is slow), and not
	// every Poll, which may be longer than the lease leaves to renew it.
	renewed := make(chan struct{})
	go func() {
		defer close(renewed)
		clock.Every(ctx, d.cfg.renewEvery(), func(ctx context.Context) { d.lease(ctx, t, &lease) })
	}()
	defer func() {
		close(queue)
		senders.Wait()
		close(done)
		<-recorded
		<-renewed
		d.unlease(ctx, t)
	}()

	idle := time.NewTimer(d.cfg.Poll)
	defer idle.Stop()
	for {
		if !failing.Load() && d.lease(ctx, t, &lease) {
			// Claim once a quarter of what the lane may hold is free (at
			// once when it is idle): fewer, larger claims, while the queue
			// keeps the senders busy.
			n, ok := take(ctx, held, most/4, most)
			if !ok {
				return
			}
			// The held ids are read before the claim's snapshot is taken,
			// and dropped only after their outcome is committed: a claim
			// sees each either held or recorded.
			claimed, err := d.claim(ctx, st, t.ID, n, holding.ids())
			if err != nil && ctx.Err() == nil {
				d.log.Warn("webhooks: cannot claim deliveries; trying again", "endpoint", t.ID, "err", err)
			}
			for range n - len(claimed) {
				<-held
			}
			holding.add(claimed)
			for _, c := range claimed {
				queue <- c // never blocks: the queue has room for all held
			}
			if len(claimed) == n {
				continue // there may be more due: claim again once any is done
			}
		}
		// Nothing more is due now (or the endpoint is another's, or
		// records fail and their deliveries stay held until they pass): wait
		// until an outcome may have made a key's next one due, or a poll's
		// time for retries, new ones and the lease.
		idle.Reset(d.cfg.Poll)
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-idle.C:
		}
	}
}

// statements are a lane's claim and record, prepared once: parsing and
// planning them took as long as running them.
type statements struct {
	claim, record *sqlx.Stmt
}

// prepare prepares a lane's statements, trying again every Poll until it
// can; false when ctx ended first.
func (d *Dispatcher) prepare(ctx context.Context, t target) (*statements, bool) {
	for {
		st, err := func() (*statements, error) {
			claim, err := d.db.PreparexContext(ctx, claimSQL)
			if err != nil {
				return nil, err
			}
			record, err := d.db.PreparexContext(ctx, recordOutcomesSQL)
			if err != nil {
				claim.Close()
				return nil, err
			}
			return &statements{claim: claim, record: record}, nil
		}()
		if err == nil {
			return st, true
		}
		if ctx.Err() == nil {
			d.log.Warn("webhooks: cannot prepare a lane's statements; trying again", "endpoint", t.ID, "err", err)
		}
		select {
		case <-ctx.Done():
			return nil, false
		case <-time.After(d.cfg.Poll):
		}
	}
}

func (s *statements) close() {
	s.claim.Close()
	s.record.Close()
}

// heldSet is the ids of the deliveries a lane holds.
type heldSet struct {
	mu sync.Mutex
	in map[int64]bool
}

func (h *heldSet) add(cs []claimed) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.in == nil {
		h.in = map[int64]bool{}
	}
	for _, c := range cs {
		h.in[c.ID] = true
	}
}

func (h *heldSet) drop(batch []attempted) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, a := range batch {
		delete(h.in, a.ID)
	}
}

func (h *heldSet) ids() []int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]int64, 0, len(h.in))
	for id := range h.in {
		out = append(out, id)
	}
	return out
}

// take waits for least free tokens of held, then takes as many more as
// are free, up to most; false when ctx ended first.
func take(ctx context.Context, held chan<- struct{}, least, most int) (int, bool) {
	n := 0
	for ; n < least; n++ {
		select {
		case <-ctx.Done():
			return 0, false
		case held <- struct{}{}:
		}
	}
	for ; n < most; n++ {
		select {
		case held <- struct{}{}:
		default:
			return n, true
		}
	}
	return n, true
}

// attempted is what came of one claimed delivery.
type attempted struct {
	claimed
	outcome
	// cut: the lane stopped, or its lease ran short, before or during the
	// attempt, which did not deliver. No one's failure: nothing is
	// recorded, and the delivery is due as it was.
	cut bool
}

// gather yields the outcomes sent on done until it is closed, each time
// all that came in meanwhile, up to most.
func gather(done <-chan attempted, most int) func(yield func([]attempted) bool) {
	return func(yield func([]attempted) bool) {
		for a := range done {
			batch := []attempted{a}
		more:
			for len(batch) < most {
				select {
				case a, ok := <-done:
					if !ok {
						break more
					}
					batch = append(batch, a)
				default:
					break more
				}
			}
			if !yield(batch) {
				return
			}
		}
	}
}
