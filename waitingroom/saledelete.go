package waitingroom

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// deletedNewsKept is how long the event stream of a deleted sale outlives it,
// so that every node following it reads the news and tells its shoppers.
const deletedNewsKept = time.Hour

// Delete takes a sale that has not opened out of Postgres and Redis, records
// it in the audit log (the log keeps the sale's id and its last plan: its
// rows outlive the sale, migrations/00020), and tells the shoppers waiting in
// its prequeue that it ended (a state "ended" with "deleted": true). A sale
// that has opened is refused with ErrSaleOpened, and nothing changes.
//
// As Edit: a Postgres transaction locks the row and deletes it with the
// sale's lists of invitees, groups and codes, and writes the audit row;
// delete.lua then checks the state and removes the keys in one step (so a
// delete racing the opening is refused or wins wholly); the transaction
// commits only then, and is rolled forward should the commit fail.
//
// A sale Postgres has and Redis does not (a first delete whose Postgres side
// failed twice, or a Redis that lost the sale) is deleted from Postgres
// alone, as long as its plan has not started: before its start it could not
// have opened. Sending a delete again is thus how a half-done one heals.
func (o *Operator) Delete(ctx context.Context, saleID, actor string) error {
	if why := textProblem(actor, maxActorLen); why != "" {
		return fmt.Errorf("%w: actor %s", ErrInvalidSale, why)
	}
	pgctx, cancel := o.detached(ctx)
	defer cancel()
	tx, err := o.catalog.Begin(pgctx)
	if err != nil {
		return fmt.Errorf("delete sale %s: %w", saleID, err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	plan, auditID, err := o.catalog.deleteIn(ctx, tx, saleID, actor)
	if err != nil {
		return err
	}
	err = runOnce(pgctx, o.rooms.rdb, deleteScript, deleteKeys(saleID), EventsMaxLen, deletedNewsKept.Milliseconds()).Err()
	switch {
	case replyCode(err) == "NO_SALE":
		if !plan.StartsAt.After(o.now()) {
			return fmt.Errorf("delete sale %s: %w: redis does not know it, and its start has passed, so it may have opened",
				saleID, ErrSaleOpened)
		}
	case err != nil && refusedByEdit(err):
		return fmt.Errorf("delete sale %s: %w", saleID, editError(err))
	case err != nil:
		return fmt.Errorf("delete sale %s: redis did not say whether it took the delete; postgres kept the sale "+
			"(send the delete again): %v", saleID, err) // %v: "nothing was done" would be wrong
	}
	// Off the active list, outside the script: the list has no hash tag.
	// Left on it, the admitters find no sale there and pass.
	o.rooms.rdb.SRem(pgctx, ActiveSales, saleID)
	if err := tx.Commit(); err != nil {
		tx.Rollback() //nolint:errcheck // it holds the lock the retry takes
		fresh, cancel := o.detached(ctx)
		defer cancel()
		return o.deleteForward(fresh, saleID, actor, auditID)
	}
	return nil
}

// deleteKeys are the KEYS of delete.lua: meta and events first, then every
// other key of the sale.
func deleteKeys(saleID string) []string {
	k := Keys(saleID)
	return []string{k.Meta, k.Events, k.Queue, k.Pre, k.Draw, k.Presort, k.Gone, k.Journeys, k.Shoppers, k.Res,
		k.Batches, k.Holds, k.Outbox, k.Lease, k.Fence, k.Nodes, k.Away, k.Present, k.Flags,
		k.Invited, k.Groups, k.Invites, k.Spent, k.Bought, k.Customers, k.Scheduled}
}

// deleteForward deletes in Postgres a sale Redis has let go, after the
// first commit failed; auditID exists only if that commit landed.
func (o *Operator) deleteForward(ctx context.Context, saleID, actor string, auditID int64) error {
	notRecorded := func(err error) error {
		return fmt.Errorf("delete sale %s took effect in redis but not in postgres (send the delete again): %v", saleID, err)
	}
	var landed bool
	if err := o.catalog.db.GetContext(ctx, &landed, `SELECT EXISTS (SELECT 1 FROM admin_actions WHERE id = $1)`, auditID); err != nil {
		return notRecorded(err)
	}
	if landed {
		return nil
	}
	tx, err := o.catalog.Begin(ctx)
	if err != nil {
		return notRecorded(err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if _, _, err := o.catalog.deleteIn(ctx, tx, saleID, actor); err != nil {
		return notRecorded(err)
	}
	if err := tx.Commit(); err != nil {
		return notRecorded(err)
	}
	return nil
}

// deleteIn locks the sale, refuses it when it has orders (it has opened),
// deletes it with its lists inside tx and writes the audit row, whose detail
// is the plan deleted; it returns that plan and the row's id.
func (c *Catalog) deleteIn(ctx context.Context, tx *sqlx.Tx, saleID, actor string) (*Plan, int64, error) {
	p, err := c.lock(ctx, tx, saleID, true)
	if err != nil {
		return nil, 0, err
	}
	var ordered bool
	if err := tx.GetContext(ctx, &ordered, `SELECT EXISTS (SELECT 1 FROM orders WHERE sale_id = $1)`, saleID); err != nil {
		return nil, 0, fmt.Errorf("delete sale %s: %w", saleID, err)
	}
	if ordered {
		return nil, 0, fmt.Errorf("delete sale %s: %w: it has orders", saleID, ErrSaleOpened)
	}
	for _, q := range []string{
		`DELETE FROM sale_invitees WHERE sale_id = $1`,
		`DELETE FROM sale_groups WHERE sale_id = $1`,
		`DELETE FROM sale_invite_codes WHERE sale_id = $1`,
		`DELETE FROM sales WHERE id = $1`,
	} {
		if _, err := tx.ExecContext(ctx, q, saleID); err != nil {
			return nil, 0, fmt.Errorf("delete sale %s: %w", saleID, err)
		}
	}
	detail, _ := json.Marshal(map[string]any{"plan": p})
	id, err := c.recordIn(ctx, tx, saleID, "delete", actor, detail)
	return p, id, err
}
