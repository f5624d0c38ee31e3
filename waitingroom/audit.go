package waitingroom

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/foyerhq/foyer/internal/auditlog"
)

// Record applies an admin action that belongs to no one sale (a change of
// the blocklist, say) and writes it to the audit log: both, or neither.
//
// The audit row goes in first, in a transaction that commits only once apply
// has succeeded: a row Postgres refuses, or a Postgres out of reach, fails
// the action before anything changed, and a failed apply leaves no row.
// Should the commit fail once apply has run, the row is written again in a
// fresh transaction (unless the first commit landed after all); only if
// that fails too does Record fail, saying the action took effect.
func (o *Operator) Record(ctx context.Context, action, actor string, detail any, apply func(context.Context) error) error {
	if why := textProblem(action, maxActorLen) + textProblem(actor, maxActorLen); why != "" {
		return fmt.Errorf("%w: audit %s by %s: %s", ErrInvalidSale, action, actor, why)
	}
	body, err := json.Marshal(detail)
	if err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	pgctx, cancel := o.detached(ctx)
	defer cancel()
	tx, err := o.catalog.Begin(pgctx)
	if err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	id, err := insertAudit(ctx, tx, action, actor, body)
	if err != nil {
		return err
	}
	// On the detached context: a client that hangs up halfway through apply
	// must not leave its change half made and the audit row rolled back.
	if err := apply(pgctx); err != nil {
		return err
	}
	if err := tx.Commit(); err == nil {
		return nil
	}
	// A fresh context: the likeliest reason the commit failed is that pgctx
	// ran out, and a retry on it would fail at once.
	againctx, cancelAgain := o.detached(ctx)
	defer cancelAgain()
	if err := o.recordAgain(againctx, id, action, actor, body); err != nil {
		// %v, not %w: a network error must not be told as "unavailable,
		// nothing was done", since the action was done.
		return fmt.Errorf("%s took effect but could not be recorded in the audit log: %v", action, err)
	}
	return nil
}

// recordAgain writes an audit row whose first commit failed, unless the row
// with id exists after all (ids are never reused, so it exists only if that
// commit landed).
func (o *Operator) recordAgain(ctx context.Context, id int64, action, actor string, body []byte) error {
	tx, err := o.catalog.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	var landed bool
	if err := tx.GetContext(ctx, &landed, `SELECT EXISTS (SELECT 1 FROM admin_actions WHERE id = $1)`, id); err != nil {
		return err
	}
	if landed {
		return nil
	}
	if _, err := insertAudit(ctx, tx, action, actor, body); err != nil {
		return err
	}
	return tx.Commit()
}

// insertAudit appends an action that belongs to no sale to the audit log.
func insertAudit(ctx context.Context, tx *sqlx.Tx, action, actor string, detail []byte) (int64, error) {
	id, err := auditlog.Append(ctx, tx, "", action, actor, detail)
	if err != nil {
		return 0, fmt.Errorf("audit %s: %w", action, err)
	}
	return id, nil
}
