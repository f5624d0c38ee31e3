package webhooks

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"
)

// laneLeaseSQL takes or renews the lease of endpoint $1's lane for owner
// $2, for $3 seconds: granted when no one holds it, when $2 does, or when
// its holder's lease has ended. No row: someone else holds it.
const laneLeaseSQL = `
INSERT INTO webhook_lanes (endpoint_id, owner, leased_until) VALUES ($1, $2, now() + make_interval(secs => $3))
ON CONFLICT (endpoint_id) DO UPDATE SET owner = EXCLUDED.owner, leased_until = EXCLUDED.leased_until
WHERE webhook_lanes.owner = EXCLUDED.owner OR webhook_lanes.leased_until < now()
RETURNING owner`

// laneLease is how long a lane may send, by this process's clock. It is
// counted from before the statement that took it, so it ends here no
// later than in the database, whose clock every other dispatcher reads.
type laneLease struct {
	mu    sync.Mutex
	until time.Time
}

// The lease of a lane lasts Config.leaseFor (2 × Timeout + 30 s); it is
// renewed once less than Timeout + laneRenewMargin is left, and an attempt
// starts only while more than Timeout is left, so each attempt ends within
// the lease, and a lane has laneRenewMargin to renew before its senders
// pause. Renewal is looked at every renewMargin/4 (renewEvery), whatever
// Poll is: it used to be looked at every Poll, which, set long, let the
// lease lapse under a lane still sending. An outcome is recorded only while
// the lease is still held in the database (recordOutcomesSQL), so however
// late a record comes, it never lands after another dispatcher took over.
const laneRenewMargin = 20 * time.Second

// renewEvery is how often a lane looks whether its lease is due renewal.
func (c Config) renewEvery() time.Duration { return c.renewMargin / 4 }

// lose forgets the lease: the database said it has ended.
func (l *laneLease) lose() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.until = time.Time{}
}

// covers reports whether the lease lasts past t.
func (l *laneLease) covers(t time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return t.Before(l.until)
}

// lease takes or renews the lane's lease when it is due; false when the
// lane may not claim now (someone else holds the endpoint, or the
// database cannot say and the lease runs short).
func (d *Dispatcher) lease(ctx context.Context, t target, l *laneLease) bool {
	if l.covers(time.Now().Add(d.cfg.Timeout + d.cfg.renewMargin)) {
		return true
	}
	start := time.Now()
	var owner string
	err := d.db.GetContext(ctx, &owner, laneLeaseSQL, t.ID, d.owner, d.cfg.leaseFor.Seconds())
	switch {
	case err == nil:
		l.mu.Lock()
		l.until = start.Add(d.cfg.leaseFor)
		l.mu.Unlock()
		return true
	case errors.Is(err, sql.ErrNoRows):
		return false
	default:
		if ctx.Err() == nil {
			d.log.Warn("webhooks: cannot lease an endpoint's lane; trying again", "endpoint", t.ID, "err", err)
		}
		return l.covers(time.Now().Add(d.cfg.Timeout))
	}
}

// unlease gives the lane's lease up, so that another dispatcher takes the
// endpoint over at once.
func (d *Dispatcher) unlease(ctx context.Context, t target) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if _, err := d.db.ExecContext(rctx, `DELETE FROM webhook_lanes WHERE endpoint_id = $1 AND owner = $2`,
		t.ID, d.owner); err != nil {
		d.log.Warn("webhooks: cannot give up an endpoint's lane; another takes it when its lease ends",
			"endpoint", t.ID, "err", fmt.Errorf("unlease: %w", err))
	}
}
