package webhooks

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/foyerhq/foyer/internal/auditlog"
	"github.com/foyerhq/foyer/internal/paging"
	"github.com/foyerhq/foyer/internal/pgtx"
)

// The statuses of a delivery: pending (to be sent, or sent again at
// NextAttemptAt), delivered (a 2xx came back), dead (it failed for MaxAge).
const (
	StatusPending   = "pending"
	StatusDelivered = "delivered"
	StatusDead      = "dead"
)

var statuses = []string{StatusPending, StatusDelivered, StatusDead}

// Limits of a delivery log page, and of a replay.
const (
	DefaultLimit = 50
	MaxLimit     = 500
	// MaxReplay bounds the deliveries one replay may make: a wider one
	// must be split into several, each with a later since.
	MaxReplay = 10000
)

// Delivery is one line of an endpoint's delivery log.
type Delivery struct {
	ID             int64      `json:"id" db:"id"`
	EventID        string     `json:"event_id" db:"event_id"`
	EventType      string     `json:"event_type" db:"event_type"`
	SaleID         string     `json:"sale_id" db:"sale_id"`
	Status         string     `json:"status" db:"status"`
	Attempts       int        `json:"attempts" db:"attempts"`
	LastStatusCode *int       `json:"last_status_code" db:"last_status_code"`
	LastLatencyMS  *int       `json:"last_latency_ms" db:"last_latency_ms"`
	LastError      *string    `json:"last_error" db:"last_error"`
	NextAttemptAt  *time.Time `json:"next_attempt_at" db:"next_attempt_at"` // null unless pending
	CreatedAt      time.Time  `json:"created_at" db:"created_at"`
	DeliveredAt    *time.Time `json:"delivered_at" db:"delivered_at"`
}

// LogQuery says which deliveries to read: the zero one reads every status,
// newest first, DefaultLimit at a time.
type LogQuery struct {
	Statuses []string
	Limit    int
	Before   int64 // the id of the last delivery already read; 0: from the newest
}

// ParseLogQuery reads a query from the admin API's parameters: status (a
// comma list), limit (1..MaxLimit), cursor (from a previous page).
func ParseLogQuery(status, limit, cursor string) (LogQuery, error) {
	q, err := paging.Rules{Statuses: statuses, DefaultLimit: DefaultLimit, MaxLimit: MaxLimit, Bad: ErrBadQuery}.
		Parse(status, limit, cursor)
	if err != nil {
		return LogQuery{}, err
	}
	return LogQuery{Statuses: q.Statuses, Limit: q.Limit, Before: q.Cursor}, nil
}

// LogPage is one page of a delivery log, and the cursor of the next (nil: no more).
type LogPage struct {
	Deliveries []Delivery `json:"deliveries"`
	NextCursor *string    `json:"next_cursor"`
}

const deliveryColumns = `d.id, ev.id AS event_id, ev.type AS event_type, ev.sale_id, d.status, d.attempts,
	d.last_status_code, d.last_latency_ms, d.last_error,
	CASE WHEN d.status = 'pending' THEN d.next_attempt_at END AS next_attempt_at, d.created_at, d.delivered_at`

// Log reads one page of an endpoint's deliveries, newest first. An
// unknown endpoint is ErrNotFound.
func (s *Store) Log(ctx context.Context, endpointID string, q LogQuery) (LogPage, error) {
	if _, err := s.Get(ctx, endpointID); err != nil {
		return LogPage{}, err
	}
	limit := q.Limit
	if limit < 1 {
		limit = DefaultLimit
	}
	before := q.Before
	if before == 0 {
		before = 1<<63 - 1
	}
	var rows []Delivery
	err := s.db.SelectContext(ctx, &rows, `SELECT `+deliveryColumns+`
		FROM webhook_deliveries d JOIN webhook_events ev ON ev.seq = d.event_seq
		WHERE d.endpoint_id = $1 AND d.id < $2 AND (coalesce(cardinality($3::text[]), 0) = 0 OR d.status = ANY($3))
		ORDER BY d.id DESC LIMIT $4`, endpointID, before, pq.Array(q.Statuses), limit+1)
	if err != nil {
		return LogPage{}, fmt.Errorf("read deliveries of webhook endpoint %q: %w", endpointID, err)
	}
	page := LogPage{Deliveries: rows}
	if len(rows) > limit {
		page.Deliveries = rows[:limit]
		next := paging.EncodeCursor(rows[limit-1].ID)
		page.NextCursor = &next
	}
	if page.Deliveries == nil {
		page.Deliveries = []Delivery{}
	}
	return page, nil
}

// Redeliver sends a delivery's event to its endpoint again, as a new
// delivery (the log keeps the old one), after any of the same order still
// pending. It gives the new delivery; or, when that event already has a
// delivery pending to the endpoint, that one, and makes nothing: however
// often it is asked, an event waits at most once per endpoint.
func (s *Store) Redeliver(ctx context.Context, endpointID string, deliveryID int64, actor string) (Delivery, error) {
	var d Delivery
	err := pgtx.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		var of struct {
			EventSeq    int64  `db:"event_seq"`
			OrderingKey string `db:"ordering_key"`
		}
		err := tx.GetContext(ctx, &of, `SELECT event_seq, ordering_key FROM webhook_deliveries
			WHERE id = $1 AND endpoint_id = $2`, deliveryID, endpointID)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrDeliveryNotFound
		}
		if err != nil {
			return err
		}
		// Two redelivers of one event at once: the second waits, then
		// finds the first's delivery pending.
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext('webhook_redeliver:' || $1 || ':' || $2::text))`,
			endpointID, of.EventSeq); err != nil {
			return err
		}
		var id int64
		err = tx.GetContext(ctx, &id, `SELECT id FROM webhook_deliveries WHERE endpoint_id = $1 AND ordering_key = $2
			AND status = 'pending' AND event_seq = $3 ORDER BY id LIMIT 1`, endpointID, of.OrderingKey, of.EventSeq)
		pending := err == nil
		if errors.Is(err, sql.ErrNoRows) {
			err = tx.GetContext(ctx, &id, `INSERT INTO webhook_deliveries (endpoint_id, event_seq, ordering_key)
				VALUES ($1, $2, $3) RETURNING id`, endpointID, of.EventSeq, of.OrderingKey)
		}
		if err != nil {
			return err
		}
		if err := tx.GetContext(ctx, &d, `SELECT `+deliveryColumns+` FROM webhook_deliveries d
			JOIN webhook_events ev ON ev.seq = d.event_seq WHERE d.id = $1`, id); err != nil {
			return err
		}
		if pending {
			return nil // nothing changed: nothing to audit
		}
		return auditlog.AppendJSON(ctx, tx, "", "webhook_redelivered", actor, map[string]any{"endpoint_id": endpointID,
			"delivery_id": deliveryID, "new_delivery_id": id, "event_id": d.EventID})
	})
	if err != nil {
		return Delivery{}, fmt.Errorf("redeliver %d of webhook endpoint %q: %w", deliveryID, endpointID, err)
	}
	return d, nil
}

// Replay makes a new delivery to the endpoint of every event of the types
// it asks for recorded since then, in their order. It gives how many.
func (s *Store) Replay(ctx context.Context, endpointID string, since time.Time, actor string) (int, error) {
	now := s.now()
	switch {
	case since.IsZero():
		return 0, fmt.Errorf("%w: since must be an RFC 3339 time", ErrBadRequest)
	case since.After(now):
		return 0, fmt.Errorf("%w: since is in the future", ErrBadRequest)
	case now.Sub(since) > s.retention():
		// Older events may be pruned already: a replay would be partial.
		return 0, fmt.Errorf("%w: since may be at most %s ago (FOYER_WEBHOOK_RETENTION)", ErrBadRequest, s.retention())
	}
	var n int
	err := pgtx.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		var events pq.StringArray
		err := tx.GetContext(ctx, &events, `SELECT events FROM webhook_endpoints WHERE id = $1 FOR SHARE`, endpointID)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		// One past the bound is enough to know it is over: a replay
		// refused writes (and rolls back) at most MaxReplay+1 rows, however
		// many events there are.
		res, err := tx.ExecContext(ctx, `INSERT INTO webhook_deliveries (endpoint_id, event_seq, ordering_key)
			SELECT $1, seq, ordering_key FROM webhook_events WHERE created_at >= $2 AND type = ANY($3)
			ORDER BY seq LIMIT $4`,
			endpointID, since, events, MaxReplay+1)
		if err != nil {
			return err
		}
		rows, _ := res.RowsAffected()
		if rows > MaxReplay {
			return fmt.Errorf("%w: more than %d events since then: replay a later since first", ErrBadRequest, MaxReplay)
		}
		n = int(rows)
		return auditlog.AppendJSON(ctx, tx, "", "webhook_replayed", actor, map[string]any{"endpoint_id": endpointID,
			"since": since.UTC().Format(time.RFC3339Nano), "deliveries": n})
	})
	if err != nil {
		return 0, fmt.Errorf("replay webhook endpoint %q: %w", endpointID, err)
	}
	return n, nil
}
