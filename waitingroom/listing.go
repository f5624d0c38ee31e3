package waitingroom

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// ListingBounds bound what Listable reads, so the public listing of sales
// costs the same with ten sales as with ten thousand.
type ListingBounds struct {
	// Current is how many sales not yet past their end are read, soonest
	// start first: upcoming, live and those stopped or sold out early.
	Current int
	// Ended is how many sales past their end are read, latest end first.
	Ended int
	// EndedSince is how far back an ended sale is still read.
	EndedSince time.Time
}

// listableSQL reads the sales anyone may join from Foyer's own page: not
// invited-only (only invitees may join them) and not identity required
// (their shoppers come from the shop's page, which signs them in). $1 is
// now; $2 the oldest end still read; $3 and $4 bound the two halves.
const listableSQL = `
(SELECT ` + saleColumns + ` FROM sales
  WHERE ends_at > $1 AND eligibility = 'everyone' AND identity <> 'required'
  ORDER BY starts_at, id LIMIT $3)
UNION ALL
(SELECT ` + saleColumns + ` FROM sales
  WHERE ends_at <= $1 AND ends_at > $2 AND eligibility = 'everyone' AND identity <> 'required'
  ORDER BY ends_at DESC, id LIMIT $4)`

// Listable returns the plans of the sales the public listing may show,
// within b: those not past their end first, soonest start first, then
// those past it, latest end first.
func (c *Catalog) Listable(ctx context.Context, now time.Time, b ListingBounds) ([]Plan, error) {
	var plans []Plan
	if err := c.db.SelectContext(ctx, &plans, listableSQL, now, b.EndedSince, b.Current, b.Ended); err != nil {
		return nil, fmt.Errorf("list listable sales: %w", err)
	}
	return plans, withProducts(ctx, c.db, plans)
}

// Listable returns the plans of the sales the public listing may show
// (Catalog.Listable).
func (o *Operator) Listable(ctx context.Context, now time.Time, b ListingBounds) ([]Plan, error) {
	return o.catalog.Listable(ctx, now, b)
}

// Statuses reads the live state of several sales in one round trip. A sale
// Redis does not hold (ended long ago, or not yet loaded again after Redis
// lost it) is left out of the answer rather than failing the rest.
func (r *Rooms) Statuses(ctx context.Context, saleIDs []string) (map[string]Status, error) {
	reads := make([]func() (Status, error), len(saleIDs))
	_, err := r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range saleIDs {
			reads[i] = pipeStatus(ctx, p, id)
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("read status of %d sales: %w", len(saleIDs), err)
	}
	found := make([]*Status, 0, len(saleIDs))
	for _, read := range reads {
		st, err := read()
		if errors.Is(err, ErrSaleNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		found = append(found, &st)
	}
	if err := r.fillProducts(ctx, found...); err != nil {
		return nil, err
	}
	out := make(map[string]Status, len(found))
	for _, st := range found {
		out[st.SaleID] = *st
	}
	return out, nil
}
