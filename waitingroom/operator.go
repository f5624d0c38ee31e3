package waitingroom

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Operator runs sales for the admin API: the plan goes to Postgres and the
// live state to Redis, together or not at all.
type Operator struct {
	catalog *Catalog
	rooms   *Rooms
	// recordTimeout bounds each Postgres transaction of an action once it
	// has begun. Defaults to defaultRecordTimeout; tests shorten it.
	recordTimeout time.Duration
	// now is the clock plans are checked against. Defaults to time.Now.
	now func() time.Time
	// CustomerShopper derives the shopper id of the shop's customer with
	// this customer id, as a session made from its identity token has it
	// (server.CustomerShopperIDs): an invited sale's list is kept in Redis
	// by shopper id, so a join checks it without knowing customer ids. Nil
	// refuses invitee lists.
	CustomerShopper func(customerID string) string
}

// NewOperator returns an operator over a catalog and the rooms in Redis.
func NewOperator(catalog *Catalog, rooms *Rooms) *Operator {
	return &Operator{catalog: catalog, rooms: rooms, recordTimeout: defaultRecordTimeout, now: time.Now}
}

// detached returns a context for Postgres work that must finish whatever
// the client does: once Redis may have taken an action, recording it must
// not depend on the client still being there. Each attempt gets its own, so
// that a retry is not born expired by the attempt it retries.
func (o *Operator) detached(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), o.recordTimeout)
}

// ErrIdempotencyKeyReused means an Idempotency-Key came back with another
// plan than the one it first created a sale with.
var ErrIdempotencyKeyReused = errors.New("idempotency key reused with another request")

// maxIdempotencyKeyLen bounds a create's Idempotency-Key, in characters: it
// is stored with the sale.
const maxIdempotencyKeyLen = 255

// Create validates a plan, gives it an id and starts its sale, and records it
// in the audit log: all of it, or none. actor is who asked, for the audit log.
//
// The sale's row and its audit row go in one Postgres transaction; the sale
// is loaded into Redis before that commits, so a sale in Postgres is always
// one Redis knows, and is unloaded again when the commit fails. Nobody can
// have joined it meanwhile: its id is new, and told to no one yet.
//
// With p.IdempotencyKey set, Create is safe to retry: a key seen before with
// the same p.Fingerprint returns the sale it created (loading it into Redis
// again, should the first attempt have lost it there), and with another
// fingerprint fails with ErrIdempotencyKeyReused.
func (o *Operator) Create(ctx context.Context, p Plan, actor string) (*Plan, error) {
	p.ID = newSaleID()
	// In UTC and to the microsecond, as Postgres keeps them, so that a
	// replay answers the very times the first create did.
	p.StartsAt, p.EndsAt = p.StartsAt.UTC().Truncate(time.Microsecond), p.EndsAt.UTC().Truncate(time.Microsecond)
	if why := textProblem(actor, maxActorLen); why != "" {
		return nil, fmt.Errorf("%w: actor %s", ErrInvalidSale, why)
	}
	if why := textProblem(p.IdempotencyKey, maxIdempotencyKeyLen); why != "" {
		return nil, fmt.Errorf("%w: Idempotency-Key %s", ErrInvalidSale, why)
	}
	// The key first, then the clock: a retry answers what the first create
	// did, even once its schedule would no longer pass the check against now.
	if p.IdempotencyKey != "" {
		if prior, err := o.replay(ctx, p); prior != nil || err != nil {
			return prior, err
		}
	}
	if err := p.ValidateAt(o.now()); err != nil {
		return nil, err
	}
	// Detached from the request: once Redis holds the sale, its outcome must
	// not depend on the client staying.
	pgctx, cancel := o.detached(ctx)
	defer cancel()
	tx, err := o.catalog.Begin(pgctx)
	if err != nil {
		return nil, fmt.Errorf("create sale: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	created, err := o.catalog.Create(ctx, tx, &p)
	if err != nil {
		return nil, err
	}
	if !created { // a create with the same key committed meanwhile
		tx.Rollback() //nolint:errcheck // nothing was written
		return o.replay(ctx, p)
	}
	detail, _ := json.Marshal(p)
	if _, err := o.catalog.recordIn(ctx, tx, p.ID, "create", actor, detail); err != nil {
		return nil, err
	}
	if err := o.rooms.Load(pgctx, &p); err != nil {
		o.unload(ctx, p.ID)
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		o.unload(ctx, p.ID)
		return nil, fmt.Errorf("commit sale %s: %w", p.ID, err)
	}
	return &p, nil
}

// replay returns the sale an earlier create with p's Idempotency-Key made,
// or nil when there was none.
func (o *Operator) replay(ctx context.Context, p Plan) (*Plan, error) {
	prior, err := o.catalog.byIdempotencyKey(ctx, p.IdempotencyKey)
	if err != nil || prior == nil {
		return nil, err
	}
	prior.StartsAt, prior.EndsAt = prior.StartsAt.UTC(), prior.EndsAt.UTC()
	if prior.Fingerprint != p.Fingerprint {
		return nil, fmt.Errorf("create sale: %w", ErrIdempotencyKeyReused)
	}
	if prior.EndsAt.After(o.now()) {
		// A commit may have landed although it reported failure, and the
		// sale been unloaded from Redis: loading again is a no-op otherwise.
		if err := o.rooms.Load(ctx, prior); err != nil {
			return nil, err
		}
	}
	return prior, nil
}

// unload takes a sale whose create failed back out of Redis: its keys (an
// admitter may have begun on it) and its place on the active list. It is best
// effort: should it fail, what is left is a sale whose id nobody was told and
// that Postgres does not know, which foyer reconcile never looks at. It runs
// on a fresh detached context: the commit it follows may have failed because
// the first one ran out.
func (o *Operator) unload(ctx context.Context, id string) {
	ctx, cancel := o.detached(ctx)
	defer cancel()
	k := Keys(id)
	o.rooms.rdb.SRem(ctx, ActiveSales, id)
	o.rooms.rdb.Del(ctx, k.Meta, k.Queue, k.Pre, k.Draw, k.Presort, k.Gone, k.Journeys, k.Shoppers, k.Res,
		k.Batches, k.Holds, k.Outbox, k.Events, k.Lease, k.Fence, k.Nodes, k.Away, k.Present, k.Flags,
		k.Invited, k.Groups, k.Invites, k.Spent, k.Bought, k.Customers, k.Scheduled)
}

// Get returns a sale's plan.
func (o *Operator) Get(ctx context.Context, id string) (*Plan, error) { return o.catalog.Get(ctx, id) }

// List returns every sale's plan, newest first.
func (o *Operator) List(ctx context.Context) ([]Plan, error) { return o.catalog.List(ctx) }

// LoadCurrent loads every sale that has not ended into Redis, for a node that
// starts against a Redis that lost them. Sales already there are untouched.
func (o *Operator) LoadCurrent(ctx context.Context, now time.Time) (int, error) {
	plans, err := o.catalog.Current(ctx, now)
	if err != nil {
		return 0, err
	}
	for i := range plans {
		if plans[i].EligibilityOf() == EligibleInvited {
			if err := o.restoreInvitations(ctx, plans[i].ID); err != nil {
				return i, err
			}
		}
		if err := o.rooms.Load(ctx, &plans[i]); err != nil {
			return i, err
		}
	}
	return len(plans), nil
}

// newSaleID returns a short random id that is safe in URLs and Redis keys.
func newSaleID() string {
	return "s_" + strings.ToLower(rand.Text()[:12])
}

// ValidSaleID reports whether id could name a sale, so that garbage from a
// URL never becomes a Redis key.
func ValidSaleID(id string) bool {
	return len(id) >= 3 && len(id) <= 64 && plainChars(id, false)
}
