package waitingroom

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Admitter lets shoppers out of every active sale at the sale's outflow rate.
// Every node runs one; for each sale the node holding the sale's lease does
// the work, and the fencing token keeps a deposed node from admitting.
type Admitter struct {
	rdb   redis.UniversalClient
	rooms *Rooms
	node  string
	log   *slog.Logger

	// Tick is how often the admitter runs each sale. Defaults to 100ms: short
	// enough that a rate of 10/s admits one shopper per tick, long enough that
	// a node spends a few Redis calls per sale per tick and no more.
	Tick time.Duration
	// LeaseTTL is how long a sale's lease outlives a silent holder. Defaults to
	// 1.5s, so another node takes over within 2s of the holder's death.
	LeaseTTL time.Duration
	// MaxReleasePerTick bounds how many expired holds one tick releases, so a
	// mass expiry cannot make one script run long. Defaults to 500.
	MaxReleasePerTick int
	// MaxAdmitPerTick bounds one admission script. Defaults to 1000.
	MaxAdmitPerTick int
	// Grace is how long a shopper whose connections all closed keeps its
	// place or its hold. Defaults to 60s.
	Grace time.Duration
	// DrawChunk is how many prequeue shoppers one tick hands tickets to at the
	// start. Defaults to 5000: about 50 ms of Redis's time per tick, so a
	// large prequeue is drawn over a few ticks and never stalls Redis.
	DrawChunk int
	// NodeCheckEvery is how often the admitter looks for dead nodes among
	// those holding a sale's shoppers. Defaults to 1s.
	NodeCheckEvery time.Duration
	// ListEvery is how often a node with no sale due at a tick reads the
	// list of active sales on its own; otherwise the list rides along with
	// the tick's pipeline, read for the next tick. A sale created, or
	// listed again by a restock, is first ticked within ListEvery and a
	// tick. Defaults to 300ms. Read alone every tick, the list was a third
	// of an idle node's round trips to Redis.
	ListEvery time.Duration
	// StandbyEvery is how often a node that does not hold a sale's lease
	// asks for it. Defaults to 300ms: another node still takes over within
	// 2s of the holder's death (LeaseTTL, then this, then a tick), for a
	// third of the round trips a standby made asking every tick.
	StandbyEvery time.Duration
	// Counts, when not nil, is told what the ticks did (the node's metrics).
	Counts AdmissionCounts

	sales    map[string]*admission
	listed   []string  // the active sales, as last read
	listedAt time.Time // when they were
}

// AdmissionCounts is told what the admitter's ticks did: shoppers let out
// (each with a hold) and holds released (lapsed, or their shopper away past
// the grace period), with their units back to the sale.
type AdmissionCounts interface {
	Admitted(n int)
	Released(n int)
}

// admission is the admitter's memory of one sale between ticks.
type admission struct {
	fence       string    // fencing token while this node holds the lease, else ""
	allowance   float64   // shoppers owed by the outflow rate, carried between ticks
	last        time.Time // when the allowance was last raised
	nodesSeenAt time.Time // when dead nodes were last looked for
	askedAt     time.Time // when the lease was last asked for
}

// NewAdmitter returns an admitter for node, with the defaults documented on its fields.
func NewAdmitter(rdb redis.UniversalClient, node string, log *slog.Logger) *Admitter {
	return &Admitter{
		rdb: rdb, rooms: NewRooms(rdb), node: node, log: log,
		Tick: 100 * time.Millisecond, LeaseTTL: 1500 * time.Millisecond,
		MaxReleasePerTick: 500, MaxAdmitPerTick: 1000, Grace: time.Minute, NodeCheckEvery: time.Second,
		ListEvery: 300 * time.Millisecond, StandbyEvery: 300 * time.Millisecond, DrawChunk: 5000,
		sales: map[string]*admission{},
	}
}

// Run admits until ctx ends. Errors of one tick are logged and retried at the
// next: Redis being away for a while must not stop the loop.
func (a *Admitter) Run(ctx context.Context) error {
	t := time.NewTicker(a.Tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case now := <-t.C:
			if err := a.tick(ctx, now); err != nil && ctx.Err() == nil {
				a.log.Warn("admission tick failed", "err", err)
			}
		}
	}
}

func (a *Admitter) tick(ctx context.Context, now time.Time) error {
	// Every sale due this tick goes in one pipeline, the list of active
	// sales with it, read for the next tick: a round trip a tick for a
	// node holding leases, however many sales it runs. A node with nothing
	// due reads the list alone every ListEvery.
	var steps []*saleStep
	for _, id := range a.listed {
		s := a.sales[id]
		if s == nil {
			s = &admission{last: now}
			a.sales[id] = s
		}
		if a.due(s, now) {
			steps = append(steps, a.newStep(id, s, now))
		}
	}
	// A tick's time may come before the last read's (a ticker read late):
	// read again then too, rather than trust a list of unknown age.
	if len(steps) == 0 && a.listed != nil && now.Sub(a.listedAt) < a.ListEvery && !now.Before(a.listedAt) {
		return nil
	}
	listed := a.send(ctx, steps, true)
	var errs []error
	if ids, err := listed.Result(); err != nil {
		errs = append(errs, fmt.Errorf("list active sales: %w", err))
	} else {
		a.listed, a.listedAt = ids, now
	}
	for _, st := range steps {
		if err := a.settle(ctx, st, now); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// runSale runs one sale's part of a tick on its own: its lease, and its
// tick and admission if it holds the lease.
func (a *Admitter) runSale(ctx context.Context, saleID string, s *admission, now time.Time) error {
	if !a.due(s, now) {
		return nil
	}
	st := a.newStep(saleID, s, now)
	a.send(ctx, []*saleStep{st}, false)
	return a.settle(ctx, st, now)
}

// due reports whether a sale is sent at this tick: always by the holder of
// its lease, every StandbyEvery by a standby.
func (a *Admitter) due(s *admission, now time.Time) bool {
	return s.fence != "" || s.askedAt.IsZero() || now.Before(s.askedAt) || now.Sub(s.askedAt) >= a.StandbyEvery
}

// saleStep is one sale's part of a tick's pipeline: its lease asked for
// or renewed, and, by the holder, its tick under the fence it knew. The
// tick is refused (FENCED) should the lease have changed hands in
// between, as the lease's answer then says.
type saleStep struct {
	id    string
	s     *admission
	fence string // the fence the tick is sent under; "" for a standby
	args  []any  // tick.lua's arguments after the fence
	lease *redis.Cmd
	tick  *redis.Cmd // nil for a standby
}

func (a *Admitter) newStep(saleID string, s *admission, now time.Time) *saleStep {
	s.askedAt = now
	seed, hash := newSeed()
	return &saleStep{id: saleID, s: s, fence: s.fence,
		args: []any{EventsMaxLen, a.MaxReleasePerTick, a.Grace.Milliseconds(), seed, hash, a.DrawChunk}}
}

// queue adds the step's scripts to a pipeline: by their hash, or whole
// (which loads them again) after Redis lost them.
func (st *saleStep) queue(ctx context.Context, p redis.Pipeliner, a *Admitter, whole bool) {
	run := (*redis.Script).EvalSha
	if whole {
		run = (*redis.Script).Eval
	}
	k := Keys(st.id)
	st.lease = run(leaseScript, ctx, p, []string{k.Lease, k.Fence, k.Meta}, a.node, a.LeaseTTL.Milliseconds())
	if st.fence != "" {
		st.tick = run(tickScript, ctx, p, tickKeys(k), append([]any{st.fence}, st.args...)...)
	}
}

// lostScript reports whether Redis did not know one of the step's scripts
// (a restart): nothing of it ran.
func (st *saleStep) lostScript() bool {
	return redis.HasErrorPrefix(st.lease.Err(), "NOSCRIPT") || st.tick != nil && redis.HasErrorPrefix(st.tick.Err(), "NOSCRIPT")
}

// send runs the steps, and the read of the active list if list, in one
// round trip; the steps whose scripts Redis had lost go again, whole, in
// one more. A lease's renewal and a tick are both safe to run twice.
func (a *Admitter) send(ctx context.Context, steps []*saleStep, list bool) *redis.StringSliceCmd {
	var listed *redis.StringSliceCmd
	_, _ = a.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		if list {
			listed = p.SMembers(ctx, ActiveSales)
		}
		for _, st := range steps {
			st.queue(ctx, p, a, false)
		}
		return nil
	})
	var lost []*saleStep
	for _, st := range steps {
		if st.lostScript() {
			lost = append(lost, st)
		}
	}
	if len(lost) > 0 {
		_, _ = a.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, st := range lost {
				st.queue(ctx, p, a, true)
			}
			return nil
		})
	}
	return listed
}

// settle applies what a sale's step was answered: the lease kept, taken or
// lost, then the tick's outcome and the admission it makes owed.
func (a *Admitter) settle(ctx context.Context, st *saleStep, now time.Time) error {
	saleID, s, k := st.id, st.s, Keys(st.id)
	lease, ticked := st.lease, st.tick
	fence, err := lease.Text()
	if errors.Is(err, redis.Nil) {
		s.fence = ""
		return nil
	}
	if err != nil {
		return fmt.Errorf("renew admitter lease of sale %s: %w", saleID, err)
	}
	if s.fence != fence {
		a.log.Info("became admitter", "sale", saleID, "fence", fence)
		s.fence, s.allowance, s.last = fence, 0, now
		ticked = a.runTick(ctx, k, fence, st.args) // the tick went with the lease only under the fence it now holds
	}
	reply, err := ticked.StringSlice()
	if err != nil {
		return fmt.Errorf("tick sale %s: %w", saleID, scriptError(err))
	}
	if now.Sub(s.nodesSeenAt) >= a.NodeCheckEvery {
		s.nodesSeenAt = now
		if err := evictDead(ctx, a.rdb, saleID); err != nil {
			return err
		}
	}
	if len(reply) > 2 && a.Counts != nil {
		if n, err := strconv.Atoi(reply[2]); err == nil && n > 0 {
			a.Counts.Released(n)
		}
	}
	if st := State(reply[0]); st == StateEnded || st == StateSoldOut {
		return a.retireIfSettled(ctx, saleID)
	}
	if State(reply[0]) != StateOpen {
		s.allowance, s.last = 0, now
		return nil
	}
	rate, err := strconv.ParseFloat(reply[1], 64)
	if err != nil {
		return fmt.Errorf("outflow rate of sale %s: %w", saleID, err)
	}
	n := s.owed(rate, now, a.MaxAdmitPerTick)
	if len(reply) > 3 { // nobody to let out (or no unit): no admission's round trip
		if admissible, err := strconv.Atoi(reply[3]); err == nil {
			n = min(n, admissible)
		}
	}
	if n == 0 {
		return nil
	}
	// Decoding a thousand reservations a tick costs more than the tick's
	// round trip: they come back only for the debug log.
	if !a.log.Enabled(ctx, slog.LevelDebug) {
		count, err := a.admit(ctx, saleID, fence, n, false)
		if let, convErr := strconv.Atoi(count); err == nil && convErr == nil && a.Counts != nil && let > 0 {
			a.Counts.Admitted(let)
		}
		return err
	}
	raw, err := a.admit(ctx, saleID, fence, n, true)
	if err != nil {
		return err
	}
	admitted, err := decodeAdmitted(saleID, raw)
	if a.Counts != nil && len(admitted) > 0 {
		a.Counts.Admitted(len(admitted))
	}
	for _, r := range admitted {
		a.log.Debug("admitted", "sale", saleID, "shopper", r.Shopper, "reservation", r.ID, "txn", r.Txn)
	}
	return err
}

// retireIfSettled takes a finished sale off the active list once nothing of
// it is in flight: no confirmation left to publish, no hold that could
// still be checked out, and no invite code spent but not yet copied into
// Postgres (RecordInviteSpends walks the active sales only). Every node's admitter and outbox relay walk the active
// list each tick, so finished sales must not pile up on it.
func (a *Admitter) retireIfSettled(ctx context.Context, saleID string) error {
	k := Keys(saleID)
	var outbox, live, spent *redis.IntCmd
	var held *redis.StringCmd
	_, err := a.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		outbox = p.ZCard(ctx, k.Outbox)
		spent = p.SCard(ctx, k.Spent)
		held = p.HGet(ctx, k.Meta, "held")
		// Batches whose holds have not lapsed: paid ones stay listed until
		// then, so held says whether any of them is still unpaid.
		live = p.ZCount(ctx, k.Holds, strconv.FormatInt(time.Now().UnixMilli(), 10), "+inf")
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("check sale %s is settled: %w", saleID, err)
	}
	if outbox.Val() > 0 || spent.Val() > 0 || live.Val() > 0 && held.Val() != "0" {
		return nil
	}
	if err := a.rdb.SRem(ctx, ActiveSales, saleID).Err(); err != nil {
		return fmt.Errorf("retire sale %s: %w", saleID, err)
	}
	// Stock added or given back may have reopened the sale since this tick
	// read its state, and its SADD may have come before our SREM (the set
	// and the sale live in different slots, so no script can do both): look
	// again, after the SREM, and put a reopened sale back.
	state, err := a.rdb.HGet(ctx, k.Meta, "state").Result()
	if err != nil {
		return fmt.Errorf("recheck state of sale %s: %w", saleID, err)
	}
	if State(state) != StateEnded && State(state) != StateSoldOut {
		return a.rdb.SAdd(ctx, ActiveSales, saleID).Err()
	}
	delete(a.sales, saleID)
	a.listed = slices.DeleteFunc(a.listed, func(id string) bool { return id == saleID })
	a.log.Info("sale retired from the active list", "sale", saleID)
	return nil
}

// tickKeys are the keys tick.lua declares, in its order.
func tickKeys(k SaleKeys) []string {
	return []string{k.Meta, k.Shoppers, k.Res, k.Holds, k.Events, k.Fence, k.Queue, k.Gone, k.Away, k.Pre, k.Draw, k.Presort, k.Batches,
		k.Scheduled, k.Arrivals, k.History}
}

// runTick ticks the sale alone, under fence.
func (a *Admitter) runTick(ctx context.Context, k SaleKeys, fence string, tickArgs []any) *redis.Cmd {
	return tickScript.Run(ctx, a.rdb, tickKeys(k), append([]any{fence}, tickArgs...)...)
}

// owed raises the sale's allowance by its rate for the time since the last
// tick and takes the whole shoppers out of it. Allowance that goes unused is
// not saved up: an empty queue must not become a burst later.
func (s *admission) owed(rate float64, now time.Time, most int) int {
	// Clamped both ways: a tick read late from the ticker may carry a time
	// before the last one, and a long pause must not become a burst.
	elapsed := max(0, min(now.Sub(s.last), time.Second))
	s.last = now
	s.allowance = min(s.allowance+rate*elapsed.Seconds(), math.Max(1, rate))
	n := max(0, int(s.allowance))
	s.allowance -= float64(n)
	return min(n, most)
}

// Admit lets up to n shoppers out of the sale's queue under the given fencing
// token, holding one unit each. It returns the reservations made.
func (a *Admitter) Admit(ctx context.Context, saleID, fence string, n int) ([]Reservation, error) {
	raw, err := a.admit(ctx, saleID, fence, n, true)
	if err != nil {
		return nil, err
	}
	return decodeAdmitted(saleID, raw)
}

// admit runs the admission script. With reservations it returns the batch's
// body as announced ("" if nobody was let out); without, how many were.
func (a *Admitter) admit(ctx context.Context, saleID, fence string, n int, reservations bool) (string, error) {
	if n <= 0 {
		return "", nil
	}
	k := Keys(saleID)
	raw, err := admitScript.Run(ctx, a.rdb, admitKeys(k), fence, n, EventsMaxLen, map[bool]string{true: "1", false: "0"}[reservations], reservationNonce()).Text()
	if replyCode(err) == "REPEATED" {
		// go-redis sent the call again after losing its reply: the first
		// run admitted, and this one rightly did nothing.
		return map[bool]string{true: "", false: "0"}[reservations], nil
	}
	if err != nil {
		return "", fmt.Errorf("admit %d to sale %s: %w", n, saleID, scriptError(err))
	}
	return raw, nil
}

// admitKeys are the keys admit.lua declares, in its order.
func admitKeys(k SaleKeys) []string {
	return []string{k.Meta, k.Queue, k.Gone, k.Journeys, k.Shoppers, k.Batches, k.Holds, k.Events, k.Fence, k.Arrivals, k.History}
}

// decodeAdmitted reads what admit.lua returned when asked for the batch: its
// body, or nothing when nobody was let out.
func decodeAdmitted(saleID, raw string) ([]Reservation, error) {
	if raw == "" {
		return nil, nil
	}
	_, admitted, err := decodeBatch(raw)
	if err != nil {
		return nil, fmt.Errorf("decode admissions of sale %s: %w", saleID, err)
	}
	return admitted, nil
}

// reservationNonce returns the random part of one admission's reservation
// ids (admit.lua makes r_<nonce>_<ticket>): reservation ids are the orders'
// idempotency keys, so they must never repeat, across sales and restarts.
func reservationNonce() string {
	return rand.Text()
}
