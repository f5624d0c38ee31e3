package webhooks

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/foyerhq/foyer/internal/auditlog"
	"github.com/foyerhq/foyer/internal/clock"
	"github.com/foyerhq/foyer/waitingroom"
)

// SaleEvents reads a sale's Redis event stream (waitingroom.Rooms does).
type SaleEvents interface {
	View(ctx context.Context, saleID string) (waitingroom.View, error)
	Events(ctx context.Context, saleID, after string, block time.Duration, max int64) ([]waitingroom.Event, error)
	// Trimmed is the oldest entry left in the stream when older ones
	// were trimmed off, "" if none ever was.
	Trimmed(ctx context.Context, saleID string) (string, error)
	// Status gives the sale's state as it stands, to tell it again after a gap.
	Status(ctx context.Context, saleID string) (waitingroom.Status, error)
}

// tailPage is how many stream entries one read takes.
const tailPage = 200

// Tail records the events of each sale's Redis stream that webhooks
// tell (state changes, sold out, reservations released or lapsed), behind
// a cursor per sale kept in Postgres: the events and the cursor's move are
// committed together, so a crash records each once, and workers tailing at
// once move the cursor only from where they read it (the loser's
// transaction rolls back; ids dedupe what is left).
type Tail struct {
	db    *sqlx.DB
	rooms SaleEvents
	log   *slog.Logger
	// Poll is how often the streams are read. Defaults to 500ms.
	Poll time.Duration
}

// NewTail tails the sales of db's catalog in rooms.
func NewTail(db *sqlx.DB, rooms SaleEvents, log *slog.Logger) *Tail {
	return &Tail{db: db, rooms: rooms, log: log, Poll: 500 * time.Millisecond}
}

// Run tails until ctx ends.
func (t *Tail) Run(ctx context.Context) error {
	clock.Every(ctx, t.Poll, func(ctx context.Context) {
		if err := t.Once(ctx); err != nil && ctx.Err() == nil {
			t.log.Warn("webhooks: cannot read the sales' events; trying again", "err", err)
		}
	})
	return nil
}

// Once reads every live sale's stream up to its end.
func (t *Tail) Once(ctx context.Context) error {
	// A sale that ended a day ago has told all it will.
	var sales []struct {
		ID     string         `db:"id"`
		LastID sql.NullString `db:"last_id"`
	}
	if err := t.db.SelectContext(ctx, &sales, `SELECT s.id, c.last_id FROM sales s
		LEFT JOIN webhook_sale_cursors c ON c.sale_id = s.id
		WHERE s.ends_at > now() - interval '1 day' ORDER BY s.id`); err != nil {
		return fmt.Errorf("list sales to tail: %w", err)
	}
	var errs []error
	for _, s := range sales {
		if err := t.sale(ctx, s.ID, s.LastID); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// sale reads one sale's stream from its cursor to its end.
func (t *Tail) sale(ctx context.Context, saleID string, cursor sql.NullString) error {
	after := "0-0" // no row: a sale made since webhooks came, read from its start
	if cursor.Valid {
		after = cursor.String
	}
	if after == "$" {
		// A sale older than webhooks: start at its stream's end.
		v, err := t.rooms.View(ctx, saleID)
		if errors.Is(err, waitingroom.ErrSaleNotFound) {
			return nil // not loaded in Redis (yet, or any more)
		}
		if err != nil {
			return err
		}
		return t.advance(ctx, saleID, cursor, v.LastID, nil, nil)
	}
	for {
		lost, err := t.lost(ctx, saleID, after)
		if err != nil {
			return err
		}
		events, err := t.rooms.Events(ctx, saleID, after, -1, tailPage) // -1: no BLOCK
		if err != nil {
			return err
		}
		if len(events) == 0 {
			return nil
		}
		var out []newEvent
		if lost != nil {
			out = lost.events
		}
		for _, e := range events {
			made, err := fromStream(saleID, e)
			if err != nil {
				return err
			}
			out = append(out, made...)
		}
		last := events[len(events)-1].ID
		if err := t.advance(ctx, saleID, cursor, last, out, lost); err != nil || len(events) < tailPage {
			return err
		}
		after, cursor = last, sql.NullString{String: last, Valid: true}
	}
}

// advance records events and moves the sale's cursor from where it was to
// to, in one transaction; if another worker moved it first, nothing is
// recorded (that worker recorded the same events).
func (t *Tail) advance(ctx context.Context, saleID string, from sql.NullString, to string, events []newEvent, lost *gap) error {
	tx, err := t.db.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin tail of sale %s: %w", saleID, err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	var res sql.Result
	if from.Valid {
		res, err = tx.ExecContext(ctx, `UPDATE webhook_sale_cursors SET last_id = $3 WHERE sale_id = $1 AND last_id = $2`,
			saleID, from.String, to)
	} else {
		res, err = tx.ExecContext(ctx, `INSERT INTO webhook_sale_cursors (sale_id, last_id) VALUES ($1, $2)
			ON CONFLICT (sale_id) DO NOTHING`, saleID, to)
	}
	if err != nil {
		return fmt.Errorf("move the cursor of sale %s: %w", saleID, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return nil
	}
	if err := record(ctx, tx, events); err != nil {
		return err
	}
	if lost != nil {
		// The audit log is where an operator finds that a shop missed
		// events, and of which sale: one row per gap crossed.
		detail, _ := json.Marshal(lost)
		if _, err := auditlog.Append(ctx, tx, saleID, ActionEventsLost, "webhooks", detail); err != nil {
			return fmt.Errorf("record the events lost of sale %s: %w", saleID, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit tail of sale %s: %w", saleID, err)
	}
	if lost != nil {
		t.log.Warn("webhooks: the sale's event stream was trimmed past the cursor; events in between are lost, its state is told again",
			"sale", saleID, "after", lost.After, "first_kept", lost.FirstKept, "state", lost.State)
	}
	return nil
}

// fromStream gives the webhook events one stream entry makes, stamped with
// the entry's own time, so the same entry always makes the same events.
func fromStream(saleID string, e waitingroom.Event) ([]newEvent, error) {
	at := streamTime(e.ID)
	var out []newEvent
	add := func(typ, key string, data any, what ...string) error {
		ev, err := makeEvent(typ, saleID, key, data, at, append([]string{saleID, e.ID}, what...)...)
		if err != nil {
			return err
		}
		out = append(out, ev)
		return nil
	}
	switch e.Type {
	case waitingroom.EventState:
		if err := add(SaleStateChanged, "sale:"+saleID, SaleStateData{State: string(e.State)}); err != nil {
			return nil, err
		}
		if e.State == waitingroom.StateSoldOut {
			if err := add(SaleSoldOut, "sale:"+saleID, SaleStateData{State: string(e.State)}); err != nil {
				return nil, err
			}
		}
	case waitingroom.EventExpired:
		reason := "expired"
		if e.Reason == waitingroom.ReasonReleased {
			reason = "released"
		}
		for _, r := range e.Released {
			if err := add(ReservationReleased, r.Reservation,
				ReleasedData{ReservationID: r.Reservation, ShopperID: r.Shopper, Reason: reason}, r.Reservation); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// streamTime is when a stream entry was added: its id is "<ms>-<seq>".
func streamTime(id string) time.Time {
	ms, _, _ := strings.Cut(id, "-")
	n, err := strconv.ParseInt(ms, 10, 64)
	if err != nil {
		return time.Now()
	}
	return time.UnixMilli(n)
}
