package auditlog_test

import (
	"database/sql"
	"errors"
	"testing"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq"

	"github.com/foyerhq/foyer/internal/auditlog"
	"github.com/foyerhq/foyer/internal/pgtx"
	"github.com/foyerhq/foyer/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func TestAnActionOfNoSaleIsWrittenWithANullSaleAndItsDetail(t *testing.T) {
	db := sqlx.MustConnect("postgres", testenv.NewDatabase(t))
	t.Cleanup(func() { _ = db.Close() })
	err := pgtx.InTx(t.Context(), db, func(tx *sqlx.Tx) error {
		return auditlog.AppendJSON(t.Context(), tx, "", "shop_key_created", "admin", map[string]string{"key_id": "k1"})
	})
	if err != nil {
		t.Fatal(err)
	}
	var row struct {
		SaleID sql.NullString `db:"sale_id"`
		Action string         `db:"action"`
		Actor  string         `db:"actor"`
		Detail string         `db:"detail"`
	}
	if err := db.GetContext(t.Context(), &row, `SELECT sale_id, action, actor, detail::text AS detail FROM admin_actions`); err != nil {
		t.Fatal(err)
	}
	if row.SaleID.Valid || row.Action != "shop_key_created" || row.Actor != "admin" || row.Detail != `{"key_id": "k1"}` {
		t.Errorf("row %+v", row)
	}
}

func TestAFailedTransactionLeavesNoAuditRow(t *testing.T) {
	db := sqlx.MustConnect("postgres", testenv.NewDatabase(t))
	t.Cleanup(func() { _ = db.Close() })
	failed := errors.New("the change failed")
	err := pgtx.InTx(t.Context(), db, func(tx *sqlx.Tx) error {
		if _, err := auditlog.Append(t.Context(), tx, "", "webhook_deleted", "admin", []byte(`{}`)); err != nil {
			return err
		}
		return failed
	})
	if !errors.Is(err, failed) {
		t.Fatalf("InTx = %v, want fn's error", err)
	}
	var n int
	if err := db.GetContext(t.Context(), &n, `SELECT count(*) FROM admin_actions`); err != nil || n != 0 {
		t.Errorf("%d audit rows (%v), want none", n, err)
	}
}
