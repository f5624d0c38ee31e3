package salehistory

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/foyerhq/foyer/internal/auditlog"
	"github.com/foyerhq/foyer/internal/pgtx"
	"github.com/foyerhq/foyer/waitingroom"
)

// ErrUnpublished is a public fairness report asked for before the
// operator published it (or after it was withdrawn).
var ErrUnpublished = errors.New("this sale's fairness report is not published")

// kept is what a report needs of a sale's Redis state, copied into
// Postgres (sale_reports.history) so the report outlives it.
type kept struct {
	State   waitingroom.State   `json:"state"`
	History waitingroom.History `json:"history"`
	Flags   Flags               `json:"flags"`
	Draw    Draw                `json:"draw"`
}

// gather reads what a report needs of the sale's Redis state: its
// history, its flags summed up and its draw, in four round trips. A sale
// Redis does not have answers waitingroom.ErrSaleNotFound.
func gather(ctx context.Context, rooms *waitingroom.Rooms, saleID string) (kept, error) {
	h, err := rooms.History(ctx, saleID)
	if err != nil {
		return kept{}, err
	}
	flags, err := rooms.Flags(ctx, saleID, math.MaxInt32)
	if err != nil {
		return kept{}, err
	}
	d, err := rooms.Draw(ctx, saleID)
	if err != nil {
		return kept{}, err
	}
	st, err := rooms.Status(ctx, saleID)
	if err != nil {
		return kept{}, err
	}
	return kept{State: st.State, History: h, Flags: flagsOf(flags), Draw: drawOf(saleID, d)}, nil
}

// keep stores the sale's latest copy: counts only grow, so the latest
// replaces the one before.
func (s *Store) keep(ctx context.Context, saleID string, k kept) error {
	body, err := json.Marshal(k)
	if err != nil {
		return fmt.Errorf("encode the history of sale %s: %w", saleID, err)
	}
	if _, err := s.db.ExecContext(ctx, `INSERT INTO sale_reports (sale_id, history, copied_at) VALUES ($1, $2, now())
		ON CONFLICT (sale_id) DO UPDATE SET history = EXCLUDED.history, copied_at = EXCLUDED.copied_at`,
		saleID, body); err != nil {
		return fmt.Errorf("copy the history of sale %s: %w", saleID, err)
	}
	return nil
}

// reportRow is a sale's row of sale_reports.
type reportRow struct {
	History     []byte       `db:"history"`
	PublishedAt sql.NullTime `db:"fairness_published_at"`
}

// row reads the sale's row; a sale without one has nothing kept,
// unpublished.
func (s *Store) row(ctx context.Context, saleID string) (reportRow, error) {
	var rows []reportRow
	if err := s.db.SelectContext(ctx, &rows, `SELECT history, fairness_published_at FROM sale_reports WHERE sale_id = $1`,
		saleID); err != nil {
		return reportRow{}, fmt.Errorf("read the report of sale %s: %w", saleID, err)
	}
	if len(rows) == 0 {
		return reportRow{}, nil
	}
	return rows[0], nil
}

// current is what the report shows of the sale's Redis state: read from
// Redis while it has the sale (the latest counts), else the last copy;
// fromRedis says which.
func current(ctx context.Context, rooms *waitingroom.Rooms, saleID string, row reportRow) (k kept, fromRedis bool, err error) {
	k, err = gather(ctx, rooms, saleID)
	if err == nil {
		return k, true, nil
	}
	if !errors.Is(err, waitingroom.ErrSaleNotFound) {
		return kept{}, false, err
	}
	k = kept{History: waitingroom.History{Waits: []waitingroom.MinuteWaits{}}}
	if len(row.History) > 0 {
		if err := json.Unmarshal(row.History, &k); err != nil {
			return kept{}, false, fmt.Errorf("decode the history of sale %s: %w", saleID, err)
		}
	}
	return k, false, nil
}

// PublishFairness publishes (or, with publish false, withdraws) the sale's
// public fairness report, with a row of the audit log in the same
// transaction. The caller checks the sale exists.
func (s *Store) PublishFairness(ctx context.Context, saleID string, publish bool, actor string) (*time.Time, error) {
	var at sql.NullTime
	err := pgtx.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		if err := tx.GetContext(ctx, &at, `INSERT INTO sale_reports (sale_id, fairness_published_at)
			VALUES ($1, CASE WHEN $2 THEN now() END)
			ON CONFLICT (sale_id) DO UPDATE SET fairness_published_at =
				CASE WHEN $2 THEN coalesce(sale_reports.fairness_published_at, now()) END
			RETURNING fairness_published_at`, saleID, publish); err != nil {
			return err
		}
		action := map[bool]string{true: "fairness_published", false: "fairness_withdrawn"}[publish]
		return auditlog.AppendJSON(ctx, tx, saleID, action, actor, map[string]bool{"published": publish})
	})
	if err != nil {
		return nil, fmt.Errorf("publish the fairness report of sale %s: %w", saleID, err)
	}
	if !at.Valid {
		return nil, nil
	}
	return &at.Time, nil
}
