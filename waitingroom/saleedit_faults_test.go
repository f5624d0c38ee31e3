package waitingroom

import (
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// An edit or a delete against Postgres and Redis that fail on cue: the two
// sides end in agreement, at once or when the operator sends it again.

// scheduledSale creates a sale of f's that has not opened.
func (f *faultyOperator) scheduledSale(t *testing.T) string {
	t.Helper()
	p := validPlan()
	p.StartsAt, p.EndsAt = time.Now().Add(2*time.Hour), time.Now().Add(3*time.Hour)
	created, err := f.Create(t.Context(), p, "test")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []*redis.Script{editScript, deleteScript} { // so that no NOSCRIPT is what gets lost
		if err := s.Load(t.Context(), f.redis).Err(); err != nil {
			t.Fatal(err)
		}
	}
	return created.ID
}

func (f *faultyOperator) prices(t *testing.T, saleID string) (postgres, redisPrice int64) {
	t.Helper()
	if err := f.db.Get(&postgres, `SELECT price_cents FROM sales WHERE id = $1`, saleID); err != nil {
		t.Fatal(err)
	}
	redisPrice, err := f.redis.HGet(t.Context(), Keys(saleID).Meta, "price_cents").Int64()
	if err != nil {
		t.Fatal(err)
	}
	return postgres, redisPrice
}

func TestAnEditWhoseCommitOutlivesItsContextIsRolledForward(t *testing.T) {
	f := newFaultyOperator(t, 5*time.Second)
	saleID := f.scheduledSale(t)
	failFirstCommitSlowly(t, f.db, f.Operator)
	price := int64(777)
	if _, err := f.Edit(t.Context(), saleID, PlanChange{PriceCents: &price}, "ops"); err != nil {
		t.Fatalf("the roll forward failed: %v", err)
	}
	if pg, rs := f.prices(t, saleID); pg != price || rs != price {
		t.Errorf("price: postgres %d, redis %d, want %d in both", pg, rs, price)
	}
	var n int
	if err := f.db.Get(&n, `SELECT count(*) FROM admin_actions WHERE sale_id = $1 AND action = 'edit'`, saleID); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("%d edit rows in the audit log, want 1", n)
	}
}

func TestAnEditWhoseReplyIsLostFailsAndSentAgainMakesBothSidesAgree(t *testing.T) {
	f := newFaultyOperator(t, 200*time.Millisecond)
	saleID := f.scheduledSale(t)
	before, _ := f.prices(t, saleID)
	price := before + 1
	f.proxy.armed.Store(true)
	if _, err := f.Edit(t.Context(), saleID, PlanChange{PriceCents: &price}, "ops"); err == nil {
		t.Fatal("an edit whose reply was lost succeeded")
	}
	if sent := len(f.proxy.scripts); sent != 1 {
		t.Errorf("the edit script was sent %d times, want once", sent)
	}
	if pg, _ := f.prices(t, saleID); pg != before {
		t.Errorf("postgres kept price %d of an edit whose outcome is unknown, want %d", pg, before)
	}
	f.proxy.armed.Store(false)
	f.proxy.cut()
	if _, err := f.Edit(t.Context(), saleID, PlanChange{PriceCents: &price}, "ops"); err != nil {
		t.Fatalf("the edit sent again: %v", err)
	}
	if pg, rs := f.prices(t, saleID); pg != price || rs != price {
		t.Errorf("after sending it again: postgres %d, redis %d, want %d in both", pg, rs, price)
	}
}

func TestADeleteWhoseCommitOutlivesItsContextIsRolledForward(t *testing.T) {
	f := newFaultyOperator(t, 5*time.Second)
	saleID := f.scheduledSale(t)
	failFirstCommitSlowly(t, f.db, f.Operator)
	if err := f.Delete(t.Context(), saleID, "ops"); err != nil {
		t.Fatalf("the roll forward failed: %v", err)
	}
	var rows, audits int
	if err := f.db.Get(&rows, `SELECT count(*) FROM sales WHERE id = $1`, saleID); err != nil {
		t.Fatal(err)
	}
	if err := f.db.Get(&audits, `SELECT count(*) FROM admin_actions WHERE sale_id = $1 AND action = 'delete'`, saleID); err != nil {
		t.Fatal(err)
	}
	if rows != 0 || audits != 1 {
		t.Errorf("%d rows of the sale and %d delete rows in the audit log, want 0 and 1", rows, audits)
	}
	if f.redis.Exists(t.Context(), Keys(saleID).Meta).Val() != 0 {
		t.Error("redis still has the deleted sale")
	}
}
