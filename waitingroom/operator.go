package waitingroom

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Operator runs sales for the admin API: the plan goes to Postgres and the
// live state to Redis, together or not at all.
type Operator struct {
	catalog *Catalog
	rooms   *Rooms
}

// NewOperator returns an operator over a catalog and the rooms in Redis.
func NewOperator(catalog *Catalog, rooms *Rooms) *Operator {
	return &Operator{catalog: catalog, rooms: rooms}
}

// Create validates a plan, gives it an id and starts its sale. actor is who
// asked, for the audit log.
func (o *Operator) Create(ctx context.Context, p Plan, actor string) (*Plan, error) {
	p.ID = newSaleID()
	p.StartsAt, p.EndsAt = p.StartsAt.UTC(), p.EndsAt.UTC()
	if err := p.Validate(); err != nil {
		return nil, err
	}
	tx, err := o.catalog.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("create sale: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if err := o.catalog.Create(ctx, tx, &p); err != nil {
		return nil, err
	}
	// Redis first, then commit: a sale that is in Postgres is always loadable,
	// and one whose Redis load failed is not left half made.
	if err := o.rooms.Load(ctx, &p); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit sale %s: %w", p.ID, err)
	}
	detail, _ := json.Marshal(p)
	if err := o.catalog.audit(ctx, p.ID, "create", actor, detail); err != nil {
		return nil, err
	}
	return &p, nil
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
