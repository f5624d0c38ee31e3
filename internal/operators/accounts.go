package operators

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/foyerhq/foyer/internal/auditlog"
	"github.com/foyerhq/foyer/internal/pgtx"
)

// NewOperator is an account asked for.
type NewOperator struct {
	Username string `json:"username"`
	Password string `json:"password"`
	Role     Role   `json:"role"`
}

const columns = `username, role, created_at, disabled_at`

// Create makes an account, audited (operator_created) in the same
// transaction. A taken username is ErrExists; past MaxOperators, ErrTooMany.
func (s *Store) Create(ctx context.Context, n NewOperator, actor string) (Operator, error) {
	n.Username = NormalUsername(n.Username)
	if err := errors.Join(CheckUsername(n.Username), CheckPassword(n.Password), CheckRole(n.Role)); err != nil {
		return Operator{}, err
	}
	hash, err := s.hash(ctx, n.Password)
	if err != nil {
		return Operator{}, err
	}
	var op Operator
	err = pgtx.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		// Creations take turns, so that two cannot both pass the count.
		if _, err := tx.ExecContext(ctx, `LOCK TABLE operators IN SHARE ROW EXCLUSIVE MODE`); err != nil {
			return err
		}
		var count int
		if err := tx.GetContext(ctx, &count, `SELECT count(*) FROM operators`); err != nil {
			return err
		}
		if count >= MaxOperators {
			return fmt.Errorf("%w: at most %d accounts, disabled ones included", ErrTooMany, MaxOperators)
		}
		err := tx.GetContext(ctx, &op, `INSERT INTO operators (username, password_hash, role) VALUES ($1, $2, $3)
			RETURNING `+columns, n.Username, hash, n.Role)
		if pqErr := (*pq.Error)(nil); errors.As(err, &pqErr) && pqErr.Code == "23505" { // unique_violation
			return fmt.Errorf("%w: %s", ErrExists, n.Username)
		}
		if err != nil {
			return err
		}
		return auditlog.AppendJSON(ctx, tx, "", "operator_created", actor, map[string]any{"username": n.Username, "role": n.Role})
	})
	if err != nil {
		return Operator{}, fmt.Errorf("create operator: %w", err)
	}
	return op, nil
}

// List gives every account, by username.
func (s *Store) List(ctx context.Context) ([]Operator, error) {
	ops := []Operator{}
	if err := s.db.SelectContext(ctx, &ops, `SELECT `+columns+` FROM operators ORDER BY username`); err != nil {
		return nil, fmt.Errorf("list operators: %w", err)
	}
	return ops, nil
}

// SetRole changes an account's role, audited (operator_role_changed); its
// sessions carry the new role from their next request. The same role
// again changes nothing and writes no row.
func (s *Store) SetRole(ctx context.Context, username string, role Role, actor string) (Operator, error) {
	if err := CheckRole(role); err != nil {
		return Operator{}, err
	}
	return s.change(ctx, username, func(ctx context.Context, tx *sqlx.Tx, op *Operator) error {
		if op.Role == role {
			return nil
		}
		from := op.Role
		if err := tx.GetContext(ctx, op, `UPDATE operators SET role = $2 WHERE username = $1 RETURNING `+columns,
			op.Username, role); err != nil {
			return err
		}
		return auditlog.AppendJSON(ctx, tx, "", "operator_role_changed", actor,
			map[string]any{"username": op.Username, "from": from, "to": role})
	})
}

// SetDisabled disables an account, ending its sessions (operator_disabled),
// or enables it again (operator_enabled). Asking for what already is
// changes nothing and writes no row.
func (s *Store) SetDisabled(ctx context.Context, username string, disabled bool, actor string) (Operator, error) {
	return s.change(ctx, username, func(ctx context.Context, tx *sqlx.Tx, op *Operator) error {
		if (op.DisabledAt != nil) == disabled {
			return nil
		}
		action, set := "operator_enabled", `NULL`
		if disabled {
			action, set = "operator_disabled", `now()`
		}
		if err := tx.GetContext(ctx, op, `UPDATE operators SET disabled_at = `+set+` WHERE username = $1 RETURNING `+columns,
			op.Username); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM operator_sessions WHERE username = $1`, op.Username); err != nil {
			return err
		}
		return auditlog.AppendJSON(ctx, tx, "", action, actor, map[string]any{"username": op.Username})
	})
}

// ResetPassword sets an account's password and ends its sessions,
// audited (operator_password_reset; the password is not in the row).
func (s *Store) ResetPassword(ctx context.Context, username, password, actor string) (Operator, error) {
	if err := CheckPassword(password); err != nil {
		return Operator{}, err
	}
	hash, err := s.hash(ctx, password)
	if err != nil {
		return Operator{}, err
	}
	return s.change(ctx, username, func(ctx context.Context, tx *sqlx.Tx, op *Operator) error {
		if _, err := tx.ExecContext(ctx, `UPDATE operators SET password_hash = $2 WHERE username = $1`, op.Username, hash); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM operator_sessions WHERE username = $1`, op.Username); err != nil {
			return err
		}
		return auditlog.AppendJSON(ctx, tx, "", "operator_password_reset", actor, map[string]any{"username": op.Username})
	})
}

// change runs apply on the account of username, locked, in one
// transaction; an unknown username is ErrNotFound.
func (s *Store) change(ctx context.Context, username string, apply func(context.Context, *sqlx.Tx, *Operator) error) (Operator, error) {
	username = NormalUsername(username)
	var op Operator
	err := pgtx.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		err := tx.GetContext(ctx, &op, `SELECT `+columns+` FROM operators WHERE username = $1 FOR UPDATE`, username)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: %q", ErrNotFound, username)
		}
		if err != nil {
			return err
		}
		return apply(ctx, tx, &op)
	})
	if err != nil {
		return Operator{}, fmt.Errorf("change operator %q: %w", username, err)
	}
	return op, nil
}
