// Package auditlog owns the writes of the audit log (table admin_actions):
// every admin action, and every use of a shop key, is one row of who did
// what, to which sale if any, with a JSON detail. The stores that act
// (waitingroom, shopkeys, webhooks) append through it, in the transaction
// of the change they record, so the row lands with the change or not at
// all. waitingroom reads the log back for the admin API.
package auditlog

import (
	"context"
	"database/sql"
	"encoding/json"

	"github.com/jmoiron/sqlx"
)

// Append writes one action to the audit log through q (the change's
// transaction, or the database for a row that stands alone) and returns the
// row's id. detail is JSON. saleID "" is an action that belongs to no sale.
// Its errors are Postgres's, unwrapped: the caller says what it recorded.
func Append(ctx context.Context, q sqlx.QueryerContext, saleID, action, actor string, detail []byte) (int64, error) {
	var id int64
	err := q.QueryRowxContext(ctx,
		`INSERT INTO admin_actions (sale_id, action, detail, actor) VALUES ($1, $2, $3, $4) RETURNING id`,
		sql.NullString{String: saleID, Valid: saleID != ""}, action, detail, actor).Scan(&id)
	return id, err
}

// AppendJSON is Append of a detail not yet marshalled.
func AppendJSON(ctx context.Context, q sqlx.QueryerContext, saleID, action, actor string, detail any) error {
	body, err := json.Marshal(detail)
	if err != nil {
		return err
	}
	_, err = Append(ctx, q, saleID, action, actor, body)
	return err
}
