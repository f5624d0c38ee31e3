// Package pgtx runs a function in a Postgres transaction: the one way
// Foyer's stores commit several writes as one (a change and its audit row,
// an order's status and its webhook events).
package pgtx

import (
	"context"

	"github.com/jmoiron/sqlx"
)

// InTx runs fn in a transaction on db, committed if fn returns nil and
// rolled back otherwise. Its errors are fn's, or Postgres's, unwrapped:
// the caller says what it was doing.
func InTx(ctx context.Context, db *sqlx.DB, fn func(*sqlx.Tx) error) error {
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}
