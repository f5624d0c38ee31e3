package salehistory

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/redis/go-redis/v9"

	"github.com/foyerhq/foyer/waitingroom"
)

// samplerLease is the key of the sampler's lease: the node id of the one
// gateway that samples every sale. It has no hash tag: it belongs to no
// sale, and no script touches it with a sale's keys.
const samplerLease = "foyer:history:sampler"

// renewLease keeps the lease of its holder: PEXPIRE only if the key still
// names it, atomically, so a holder that lost it never extends another's.
var renewLease = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`)

// Sampler writes every active sale's counters once a second into the
// series, on the one gateway holding its lease, so that gateways do not
// multiply the writes. Every gateway runs one; the others wait for the
// lease.
type Sampler struct {
	rdb   redis.UniversalClient
	db    *sqlx.DB
	store *Store
	rooms *waitingroom.Rooms
	node  string
	log   *slog.Logger

	// Every is how often the sales are sampled. Defaults to 1s: the series
	// has a point per second.
	Every time.Duration
	// FlushEvery is how often the points gathered are written, in one
	// INSERT, with the sales' histories copied. Defaults to 10s: a sampler
	// that dies loses at most that much of the series.
	FlushEvery time.Duration
	// LeaseTTL is how long the lease outlives a silent holder. Defaults to
	// 3s: another gateway samples within about 4s of the holder's death.
	LeaseTTL time.Duration
	// Retention is how long after a sale's end its series is kept; 0 keeps
	// it for ever. Defaults to 90 days (FOYER_SERIES_RETENTION).
	Retention time.Duration
	// PruneEvery is how often the holder deletes series past Retention.
	// Defaults to an hour.
	PruneEvery time.Duration
	// CopyEvery is how often a running sale's report state (its history,
	// its flags summed up, its draw) is copied into Postgres; a sale that
	// is over is copied at the next flush, once. Defaults to a minute: the
	// flags are read whole, and a sale under attack may have many.
	CopyEvery time.Duration

	held    bool
	pending []Point
	sampled map[string]waitingroom.State // sales with points since the last flush, as they were last seen
	copied  map[string]copyMark          // when each sale's report state was last copied
	lastAt  int64                        // the last second sampled: a late tick does not sample one twice
	flushed time.Time
	pruned  time.Time
	written atomic.Int64 // points written by this sampler, for tests and the log
}

// NewSampler returns the sampler of node, with the defaults documented on
// its fields.
func NewSampler(rdb redis.UniversalClient, db *sqlx.DB, node string, log *slog.Logger) *Sampler {
	return &Sampler{rdb: rdb, db: db, store: NewStore(db), rooms: waitingroom.NewRooms(rdb), node: node, log: log,
		Every: time.Second, FlushEvery: 10 * time.Second, LeaseTTL: 3 * time.Second,
		Retention: 90 * 24 * time.Hour, PruneEvery: time.Hour, CopyEvery: time.Minute,
		sampled: map[string]waitingroom.State{}, copied: map[string]copyMark{}}
}

// Written is how many points this sampler has written.
func (s *Sampler) Written() int64 { return s.written.Load() }

// Run samples until ctx ends, then writes what it gathered. Errors are
// logged and the work retried at the next tick: the series may have a gap,
// the sale goes on.
func (s *Sampler) Run(ctx context.Context) error {
	t := time.NewTicker(s.Every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			// The last points are written on the way out, with a context
			// of their own: ctx is over.
			flushCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			if err := s.flush(flushCtx); err != nil {
				s.log.Warn("history: last write failed", "err", err)
			}
			s.release(flushCtx)
			return nil
		case now := <-t.C:
			if err := s.tick(ctx, now); err != nil && ctx.Err() == nil {
				s.log.Warn("history: sampling failed", "err", err)
			}
		}
	}
}

// tick samples once if this node holds the lease, and writes what it
// gathered every FlushEvery (at once when it has just lost the lease).
func (s *Sampler) tick(ctx context.Context, now time.Time) error {
	held, err := s.lease(ctx)
	if err != nil {
		return err
	}
	if !held {
		s.held = false
		return s.flush(ctx) // what was gathered while it held the lease
	}
	if !s.held {
		s.held = true
		s.log.Info("history: sampling the sales", "node", s.node)
	}
	var errs []error
	if err := s.sample(ctx, now); err != nil {
		errs = append(errs, err)
	}
	if now.Sub(s.flushed) >= s.FlushEvery {
		s.flushed = now
		errs = append(errs, s.flush(ctx))
	}
	if s.Retention > 0 && now.Sub(s.pruned) >= s.PruneEvery {
		s.pruned = now
		if n, err := s.store.Prune(ctx, now.Add(-s.Retention)); err != nil {
			errs = append(errs, err)
		} else if n > 0 {
			s.log.Info("history: series past retention deleted", "points", n)
		}
	}
	return errors.Join(errs...)
}

// lease takes or renews the sampler's lease.
func (s *Sampler) lease(ctx context.Context) (bool, error) {
	ok, err := s.rdb.SetNX(ctx, samplerLease, s.node, s.LeaseTTL).Result()
	if err != nil {
		return false, fmt.Errorf("take the history sampler's lease: %w", err)
	}
	if ok {
		return true, nil
	}
	renewed, err := renewLease.Run(ctx, s.rdb, []string{samplerLease}, s.node, s.LeaseTTL.Milliseconds()).Int()
	if err != nil {
		return false, fmt.Errorf("renew the history sampler's lease: %w", err)
	}
	return renewed == 1, nil
}

// release gives the lease up on the way out, so another gateway samples
// from its next tick rather than after LeaseTTL.
func (s *Sampler) release(ctx context.Context) {
	if !s.held {
		return
	}
	err := s.rdb.Eval(ctx, `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`,
		[]string{samplerLease}, s.node).Err()
	if err != nil {
		s.log.Warn("history: lease not released", "err", err)
	}
}

// sample reads every active sale's counters (one Redis round trip) and
// their orders written (one Postgres query), and keeps a point for each sale
// that has opened its prequeue.
func (s *Sampler) sample(ctx context.Context, now time.Time) error {
	second := now.Unix()
	if second <= s.lastAt {
		return nil
	}
	s.lastAt = second
	ids, err := s.rooms.Active(ctx)
	if err != nil || len(ids) == 0 {
		return err
	}
	counters, err := s.rooms.CountersOf(ctx, ids)
	if err != nil {
		return err
	}
	var orders []struct {
		ID   string `db:"id"`
		Sold int64  `db:"sold"`
	}
	if err := s.db.SelectContext(ctx, &orders, `SELECT id, sold FROM sales WHERE id = ANY($1)`, pq.Array(ids)); err != nil {
		return fmt.Errorf("read the orders written of %d sales: %w", len(ids), err)
	}
	sold := map[string]int64{}
	for _, o := range orders {
		sold[o.ID] = o.Sold
	}
	for id, c := range counters {
		if _, planned := sold[id]; !planned || c.State == waitingroom.StateScheduled {
			continue // nothing moves before the prequeue; a sale Postgres lacks has no series
		}
		s.pending = append(s.pending, Point{SaleID: id, Second: second, Joins: c.Joined, Admitted: c.Admitted,
			Checkouts: c.Sold, Orders: sold[id], Waiting: c.Waiting, Available: c.Available, Held: c.Held})
		s.sampled[id] = c.State
	}
	return nil
}

// flush writes the points gathered and copies the history of each sale
// they are of. Points that could not be written are kept for the next
// flush, up to an hour of them.
func (s *Sampler) flush(ctx context.Context) error {
	var errs []error
	if err := s.store.WriteSeries(ctx, s.pending); err != nil {
		errs = append(errs, err)
		if len(s.pending) > maxPending {
			s.pending = s.pending[len(s.pending)-maxPending:]
		}
	} else {
		s.written.Add(int64(len(s.pending)))
		s.pending = s.pending[:0]
	}
	now := time.Now()
	for id, state := range s.sampled {
		over := state == waitingroom.StateEnded || state == waitingroom.StateSoldOut
		last := s.copied[id]
		if over && last.over || !over && now.Sub(last.at) < s.CopyEvery {
			delete(s.sampled, id)
			continue
		}
		if err := s.copyHistory(ctx, id); err != nil {
			errs = append(errs, err)
			continue
		}
		s.copied[id] = copyMark{at: now, over: over}
		delete(s.sampled, id)
	}
	return errors.Join(errs...)
}

// copyMark is when a sale's report state was last copied, and whether
// the sale was over by then (its last copy).
type copyMark struct {
	at   time.Time
	over bool
}

// maxPending bounds the points kept while Postgres is away.
const maxPending = 3600 * 20

// copyHistory copies what the sale's scripts counted into Postgres.
func (s *Sampler) copyHistory(ctx context.Context, saleID string) error {
	k, err := gather(ctx, s.rooms, saleID)
	if errors.Is(err, waitingroom.ErrSaleNotFound) {
		return nil // gone from Redis: the last copy stands
	}
	if err != nil {
		return err
	}
	return s.store.keep(ctx, saleID, k)
}
