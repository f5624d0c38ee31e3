// Package salehistory keeps what a sale leaves behind: its per-second
// series (joins, admissions, checkouts, orders, queue, stock) in Postgres,
// written by one leased sampler for every gateway, and its post-sale report
// and public fairness report, built from the series, the history its
// scripts counted in Redis (waitingroom.History, copied into Postgres) and
// the orders. Nothing here is on a shopper's path: the sampler reads each
// active sale's counters once a second in one round trip and writes a
// batch every ten seconds (docs/reports.md).
package salehistory

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Errors of a series query.
var (
	// ErrBadSpan is a series query whose from or to is missing, not a time,
	// or not in order.
	ErrBadSpan = errors.New("from and to must be unix seconds with from before to")
	// ErrSpanTooWide is a series query wider than MaxSeriesSpan: ask in
	// pages.
	ErrSpanTooWide = errors.New("the span asked for is wider than " + MaxSeriesSpan.String() + ": ask for it in pages")
)

// MaxSeriesSpan bounds one series query: 21,600 seconds, at most as many
// points, about 0.9 MB of JSON. A day-long sale is read in four pages.
const MaxSeriesSpan = 6 * time.Hour

// Point is one sale's counters at one second, running totals as the
// sale's Redis and Postgres had them.
type Point struct {
	SaleID    string `db:"sale_id"`
	Second    int64  `db:"second"` // unix seconds
	Joins     int64  `db:"joins"`
	Admitted  int64  `db:"admitted"`
	Checkouts int64  `db:"checkouts"`
	Orders    int64  `db:"orders"`
	Waiting   int64  `db:"waiting"`
	Available int64  `db:"available"`
	Held      int64  `db:"held"`
}

// Series is a sale's points between two seconds, a column per counter (the
// dashboard's charts take columns, and a column of numbers is a third of the
// JSON of as many objects).
type Series struct {
	SaleID    string  `json:"sale_id"`
	From      int64   `json:"from"`
	To        int64   `json:"to"`
	Second    []int64 `json:"second"`
	Joins     []int64 `json:"joins"`
	Admitted  []int64 `json:"admitted"`
	Checkouts []int64 `json:"checkouts"`
	Orders    []int64 `json:"orders"`
	Waiting   []int64 `json:"waiting"`
	Available []int64 `json:"available"`
	Held      []int64 `json:"held"`
}

// Store reads and writes the series and the reports in Postgres.
type Store struct{ db *sqlx.DB }

// NewStore returns the store of db.
func NewStore(db *sqlx.DB) *Store { return &Store{db: db} }

// WriteSeries writes points in one statement. A second already written is
// kept as it is: a sampler that lost its lease without knowing it writes
// nothing twice.
func (s *Store) WriteSeries(ctx context.Context, points []Point) error {
	if len(points) == 0 {
		return nil
	}
	cols := make([][]int64, 8)
	ids := make([]string, len(points))
	for i, p := range points {
		ids[i] = p.SaleID
		for c, v := range []int64{p.Second, p.Joins, p.Admitted, p.Checkouts, p.Orders, p.Waiting, p.Available, p.Held} {
			cols[c] = append(cols[c], v)
		}
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO sale_series
		(sale_id, second, joins, admitted, checkouts, orders, waiting, available, held)
		SELECT * FROM unnest($1::text[], $2::bigint[], $3::int[], $4::int[], $5::int[], $6::int[], $7::int[], $8::int[], $9::int[])
		ON CONFLICT (sale_id, second) DO NOTHING`,
		pq.Array(ids), pq.Array(cols[0]), pq.Array(cols[1]), pq.Array(cols[2]), pq.Array(cols[3]),
		pq.Array(cols[4]), pq.Array(cols[5]), pq.Array(cols[6]), pq.Array(cols[7]))
	if err != nil {
		return fmt.Errorf("write %d points of the sales' series: %w", len(points), err)
	}
	return nil
}

// SeriesOf reads a sale's points from from up to and not including to
// (unix seconds), at most MaxSeriesSpan wide. The caller checks the sale
// exists.
func (s *Store) SeriesOf(ctx context.Context, saleID string, from, to int64) (Series, error) {
	if from <= 0 || to <= from {
		return Series{}, ErrBadSpan
	}
	if time.Duration(to-from)*time.Second > MaxSeriesSpan {
		return Series{}, ErrSpanTooWide
	}
	var points []Point
	if err := s.db.SelectContext(ctx, &points, `SELECT sale_id, second, joins, admitted, checkouts, orders,
		waiting, available, held FROM sale_series WHERE sale_id = $1 AND second >= $2 AND second < $3 ORDER BY second`,
		saleID, from, to); err != nil {
		return Series{}, fmt.Errorf("read the series of sale %s: %w", saleID, err)
	}
	out := Series{SaleID: saleID, From: from, To: to}
	for _, p := range points {
		out.Second = append(out.Second, p.Second)
		out.Joins = append(out.Joins, p.Joins)
		out.Admitted = append(out.Admitted, p.Admitted)
		out.Checkouts = append(out.Checkouts, p.Checkouts)
		out.Orders = append(out.Orders, p.Orders)
		out.Waiting = append(out.Waiting, p.Waiting)
		out.Available = append(out.Available, p.Available)
		out.Held = append(out.Held, p.Held)
	}
	for _, col := range []*[]int64{&out.Second, &out.Joins, &out.Admitted, &out.Checkouts, &out.Orders, &out.Waiting, &out.Available, &out.Held} {
		if *col == nil {
			*col = []int64{} // [] in JSON, not null
		}
	}
	return out, nil
}

// lastPoint is a sale's last point, for a report of a sale Redis no longer
// has; ok is false when none was written.
func (s *Store) lastPoint(ctx context.Context, saleID string) (p Point, ok bool, err error) {
	var points []Point
	if err := s.db.SelectContext(ctx, &points, `SELECT sale_id, second, joins, admitted, checkouts, orders,
		waiting, available, held FROM sale_series WHERE sale_id = $1 ORDER BY second DESC LIMIT 1`, saleID); err != nil {
		return Point{}, false, fmt.Errorf("read the last point of sale %s: %w", saleID, err)
	}
	if len(points) == 0 {
		return Point{}, false, nil
	}
	return points[0], true, nil
}

// Prune deletes the series of the sales that ended before cutoff, and
// returns how many points went.
func (s *Store) Prune(ctx context.Context, cutoff time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM sale_series WHERE sale_id IN
		(SELECT id FROM sales WHERE ends_at < $1)`, cutoff)
	if err != nil {
		return 0, fmt.Errorf("prune the series of sales ended before %s: %w", cutoff.Format(time.RFC3339), err)
	}
	return res.RowsAffected()
}
