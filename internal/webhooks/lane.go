package webhooks

import (
	"context"
	"sync"
	"time"
)

// claimAhead is how many deliveries a lane may hold claimed, per one it
// may have in flight (Config.InFlight): those queued for a sender, in
// flight, and those whose outcome waits to be recorded. Claims and records
// are round trips to Postgres; holding more than InFlight lets each claim
// and each record take many deliveries at once while the senders keep
// sending, instead of InFlight bounding what waits on the database too.
const claimAhead = 4

// lease is how long a claim holds its deliveries: a delivery waits behind
// at most claimAhead×InFlight-1 others, InFlight at a time, each attempt
// bounded by Timeout, and then takes its own; the margin covers recording.
// A dispatcher that dies holding deliveries leaves them to be sent again
// when their lease ends.
func (c Config) lease() time.Duration {
	return time.Duration(claimAhead+1)*c.Timeout + 30*time.Second
}

// runLane sends an endpoint's due deliveries as a pipeline: InFlight
// senders post them; the lane claims more as soon as any are done, while
// the others are still being sent; and its recorder writes every outcome
// that came in meanwhile in one statement. (It used to claim InFlight,
// wait for the slowest answer, and commit the outcomes one by one: a
// twelfth of the rate of bare POSTs.)
//
// Order per ordering key needs no bookkeeping here: claim takes only the
// first pending delivery of a key, and a claimed one stays pending (leased)
// until its outcome is recorded, so the next of its key cannot be claimed
// before then; and after, only if the earlier one was delivered or is dead
// (one to be retried is pending still). So never two of one key are
// claimed at once, by this lane or any other dispatcher's, and the queue
// may send its deliveries in any order.
func (d *Dispatcher) runLane(ctx context.Context, t target) {
	most := claimAhead * d.cfg.InFlight
	// held has a token per delivery from its claim to its recorded outcome.
	held := make(chan struct{}, most)
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
				if ctx.Err() != nil { // stopping: not sent, its lease given back
					done <- attempted{claimed: c, cut: true}
					continue
				}
				o := d.send(ctx, t, c)
				// Cut short by the stop: no one's failure (see record).
				done <- attempted{claimed: c, outcome: o, cut: ctx.Err() != nil && o.err != ""}
			}
		}()
	}
	recorded := make(chan struct{})
	go func() {
		defer close(recorded)
		d.recordOutcomes(ctx, done, held, wake, most)
	}()
	defer func() {
		close(queue)
		senders.Wait()
		close(done)
		<-recorded
	}()

	idle := time.NewTimer(d.cfg.Poll)
	defer idle.Stop()
	for {
		n, ok := take(ctx, held, most)
		if !ok {
			return
		}
		claimed, err := d.claim(ctx, t.ID, n)
		if err != nil && ctx.Err() == nil {
			d.log.Warn("webhooks: cannot claim deliveries; trying again", "endpoint", t.ID, "err", err)
		}
		for range n - len(claimed) {
			<-held
		}
		for _, c := range claimed {
			queue <- c // never blocks: the queue has room for all held
		}
		if len(claimed) == n {
			continue // there may be more due: claim again once any is done
		}
		// Nothing more is due now: wait until an outcome may have made a
		// key's next one due, or a poll's time for retries and new ones.
		idle.Reset(d.cfg.Poll)
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-idle.C:
		}
	}
}

// take waits for one free token of held, then takes as many more as are
// free, up to most; false when ctx ended first.
func take(ctx context.Context, held chan<- struct{}, most int) (int, bool) {
	select {
	case <-ctx.Done():
		return 0, false
	case held <- struct{}{}:
	}
	n := 1
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
	// cut: the lane stopped before or during the attempt, which did not
	// deliver; no one's failure, so its lease is given back.
	cut bool
}

// recordOutcomes records the outcomes sent on done until it is closed:
// each time, all that came in meanwhile (up to most), in one statement;
// then it frees their tokens of held and wakes the claimer.
func (d *Dispatcher) recordOutcomes(ctx context.Context, done <-chan attempted, held <-chan struct{},
	wake chan<- struct{}, most int) {
	for a := range done {
		batch := []attempted{a}
	gather:
		for len(batch) < most {
			select {
			case a, ok := <-done:
				if !ok {
					break gather
				}
				batch = append(batch, a)
			default:
				break gather
			}
		}
		d.record(ctx, batch)
		for range batch {
			<-held
		}
		select {
		case wake <- struct{}{}:
		default:
		}
	}
}
