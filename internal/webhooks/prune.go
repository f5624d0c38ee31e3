package webhooks

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Retention bounds: a day lets a shop replay what it lost overnight; a year
// is as far back as the tables are meant to grow.
const (
	DefaultRetention = 30 * 24 * time.Hour
	MinRetention     = 24 * time.Hour
	MaxRetention     = 365 * 24 * time.Hour
)

// pruneBatch is how many rows one delete takes: each is a short
// transaction of its own, so pruning never holds locks the dispatcher or
// the order workers wait on for long.
const pruneBatch = 1000

// Prune deletes the deliveries delivered or dead and made longer than
// Retention ago, then the events that old no delivery names any more, a
// batch at a time. A pending delivery, and its event, is never pruned. It
// gives how many of each went.
func (d *Dispatcher) Prune(ctx context.Context) (deliveries, events int64, err error) {
	cutoff := time.Now().Add(-d.cfg.Retention)
	batches := func(what, query string, args ...any) (int64, error) {
		var total int64
		for {
			res, err := d.db.ExecContext(ctx, query, append([]any{cutoff, pruneBatch}, args...)...)
			if err != nil {
				return total, fmt.Errorf("prune webhook %s: %w", what, err)
			}
			n, _ := res.RowsAffected()
			total += n
			if n < pruneBatch {
				return total, nil
			}
		}
	}
	// Deliveries' ids grow with their age, so the old ones are those below
	// the first young one: found once, it bounds every batch's scan (else,
	// with nothing old to prune, each prune walked the whole table). A row a
	// little out of order is pruned next time. Each batch names its rows
	// with = ANY(ARRAY(...)): with IN (...) the planner hashed them and
	// scanned the whole table per batch (51 ms at 208,000 rows).
	var young sql.NullInt64
	if err := d.db.GetContext(ctx, &young, `SELECT min(id) FROM webhook_deliveries WHERE created_at >= $1`,
		cutoff); err != nil {
		return 0, 0, fmt.Errorf("prune webhook deliveries: %w", err)
	}
	if !young.Valid {
		young.Int64 = 1<<63 - 1
	}
	if deliveries, err = batches("deliveries", `DELETE FROM webhook_deliveries WHERE id = ANY(ARRAY(
		SELECT id FROM webhook_deliveries WHERE status <> 'pending' AND created_at < $1 AND id < $3
		ORDER BY id LIMIT $2))`, young.Int64); err != nil {
		return deliveries, 0, err
	}
	// Events below the oldest event any delivery still names are named by
	// none (an index lookup, webhook_deliveries_event, which also serves the
	// foreign key's check of each deleted event: without it, 4 s per 1,000).
	var floor sql.NullInt64
	if err := d.db.GetContext(ctx, &floor, `SELECT min(event_seq) FROM webhook_deliveries`); err != nil {
		return deliveries, 0, fmt.Errorf("prune webhook events: %w", err)
	}
	if !floor.Valid {
		floor.Int64 = 1<<63 - 1
	}
	events, err = batches("events", `DELETE FROM webhook_events WHERE seq = ANY(ARRAY(
		SELECT seq FROM webhook_events WHERE created_at < $1 AND seq < $3 ORDER BY seq LIMIT $2))`, floor.Int64)
	return deliveries, events, err
}

// prune runs Prune, logging what it did.
func (d *Dispatcher) prune(ctx context.Context) {
	deliveries, events, err := d.Prune(ctx)
	if err != nil && ctx.Err() == nil {
		d.log.Warn("webhooks: cannot prune old deliveries and events; trying again later", "err", err)
	}
	if deliveries+events > 0 {
		d.log.Info("webhooks: pruned", "deliveries", deliveries, "events", events, "older_than", d.cfg.Retention)
	}
}
