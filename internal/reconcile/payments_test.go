package reconcile_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq"
	"github.com/redis/go-redis/v9"

	"github.com/foyerhq/foyer/checkout"
	"github.com/foyerhq/foyer/internal/reconcile"
	"github.com/foyerhq/foyer/internal/testenv"
	"github.com/foyerhq/foyer/waitingroom"
	"github.com/foyerhq/foyer/worker"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// paymentsFixture is a sale of 1500 EUR a unit in Postgres, the worker's
// settler over it, and a stateful test provider.
type paymentsFixture struct {
	db       *sqlx.DB
	rdb      *redis.Client
	provider *checkout.TestProvider
	r        *reconcile.PaymentReconciler
}

func newPaymentsFixture(t *testing.T) *paymentsFixture {
	t.Helper()
	db, err := sqlx.Open("postgres", testenv.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	rdb := testenv.RedisClient(t, testenv.NewRedis(t))
	rooms := waitingroom.NewRooms(rdb)
	// "never": a charge is written in the ledger, pending, and no webhook
	// is sent; the test then says what the shopper did (Put).
	provider := &checkout.TestProvider{Outcome: "never", Ledger: true, Log: slog.New(slog.DiscardHandler)}
	t.Cleanup(provider.Close)
	settler := worker.NewPaymentSettler(db, rooms, rooms, provider, slog.New(slog.DiscardHandler))
	db.MustExec(`INSERT INTO sales (id, sku, name, price_cents, currency, stock, sold, starts_at, ends_at,
		outflow_per_second, reservation_ttl_seconds) VALUES ('s1', 'SKU', 'Drop', 1500, 'EUR', 10, 0, now(),
		now() + interval '1 hour', 10, 60)`)
	return &paymentsFixture{db: db, rdb: rdb, provider: provider, r: reconcile.NewPaymentReconciler(db, provider, settler)}
}

// order writes an order of one unit with status and returns its id, and
// charges it at the provider (pending there) unless status is "".
func (f *paymentsFixture) order(t *testing.T, reservation, status string) int64 {
	t.Helper()
	var id int64
	if err := f.db.Get(&id, `INSERT INTO orders (sale_id, reservation_id, shopper_id, transaction_id, quantity,
		price_cents, status, confirmed_at) VALUES ('s1', $1, 'shopper-'||$1, 'txn-'||$1, 1, 1500, $2, now())
		RETURNING id`, reservation, status); err != nil {
		t.Fatal(err)
	}
	if status != "cancelled" {
		f.db.MustExec(`UPDATE sales SET sold = sold + 1 WHERE id = 's1'`)
	}
	if _, err := f.provider.Charge(t.Context(), checkout.Charge{OrderID: id, SaleID: "s1", ReservationID: reservation,
		AmountCents: 1500, Currency: "EUR"}); err != nil {
		t.Fatal(err)
	}
	return id
}

// paid says the shopper of an order paid amount at the provider.
func (f *paymentsFixture) paid(id int64, reservation string, amount int64) {
	f.provider.Put(checkout.ProviderPayment{ID: "tp_" + reservation, OrderID: id, SaleID: "s1",
		ReservationID: reservation, AmountCents: amount, Currency: "EUR", Status: checkout.PaymentPaid})
}

func (f *paymentsFixture) status(t *testing.T, id int64) string {
	t.Helper()
	var s string
	if err := f.db.Get(&s, `SELECT status FROM orders WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestReconcilePaymentsFindsEachKindOfDifferenceAndRepairsOnlyTheSafeOnes(t *testing.T) {
	f := newPaymentsFixture(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	fine := f.order(t, "r_fine", "paid")
	f.paid(fine, "r_fine", 1500)
	late := f.order(t, "r_late", "pending_payment") // paid; its webhook never came
	f.paid(late, "r_late", 1500)
	gone := f.order(t, "r_gone", "cancelled") // paid after it was cancelled
	f.paid(gone, "r_gone", 1500)
	f.order(t, "r_unpaid", "paid")         // paid here; the provider has it pending
	cheap := f.order(t, "r_cheap", "paid") // paid, for less than the order
	f.paid(cheap, "r_cheap", 999)
	f.order(t, "r_waiting", "pending_payment") // pending on both sides: no difference
	f.provider.Put(checkout.ProviderPayment{ID: "tp_orphan", SaleID: "s1", ReservationID: "r_lost",
		AmountCents: 1500, Currency: "EUR", Status: checkout.PaymentPaid})
	f.provider.Put(checkout.ProviderPayment{ID: "tp_other_sale", SaleID: "s2", ReservationID: "r_x",
		AmountCents: 1500, Currency: "EUR", Status: checkout.PaymentPaid})

	var out bytes.Buffer
	err := f.r.Reconcile(ctx, "s1", false, &out)
	if !errors.Is(err, reconcile.ErrPaymentsDiffer) {
		t.Fatalf("reconcile: %v, want ErrPaymentsDiffer (exit 1)\n%s", err, out.String())
	}
	rep, err := f.r.Run(ctx, "s1")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, d := range rep.Differences {
		got[d.Kind] = d.OrderID
	}
	want := map[string]int64{reconcile.KindPaidNotHere: late, reconcile.KindPaidCancelled: gone,
		reconcile.KindNotPaidThere: f.orderID(t, "r_unpaid"), reconcile.KindAmount: cheap, reconcile.KindNoOrder: 0}
	if len(rep.Differences) != len(want) || rep.Payments != 7 || rep.Orders != 6 {
		t.Errorf("%d differences, %d payments, %d orders; want %d, 7, 6:\n%s", len(rep.Differences), rep.Payments,
			rep.Orders, len(want), out.String())
	}
	for kind, id := range want {
		if g, ok := got[kind]; !ok || g != id {
			t.Errorf("%q: order %d (found %v), want order %d\n%s", kind, g, ok, id, out.String())
		}
	}
	if f.status(t, late) != "pending_payment" {
		t.Error("reconcile without --repair changed an order")
	}

	out.Reset()
	err = f.r.Reconcile(ctx, "s1", true, &out)
	if !errors.Is(err, reconcile.ErrPaymentsDiffer) {
		t.Fatalf("repair: %v, want ErrPaymentsDiffer: two differences have no safe fix\n%s", err, out.String())
	}
	for _, line := range []string{"order " + itoa(late) + " marked paid", "payment tp_r_gone refunded",
		"payment tp_orphan refunded", "5 differences, 3 repaired"} {
		if !strings.Contains(out.String(), line) {
			t.Errorf("repair printed no %q:\n%s", line, out.String())
		}
	}
	if s := f.status(t, late); s != "paid" {
		t.Errorf("order paid at the provider is %s after repair, want paid", s)
	}
	if s := f.status(t, f.orderID(t, "r_unpaid")); s != "paid" {
		t.Errorf("repair changed an order paid here but not at the provider to %s: it must never unmark one", s)
	}
	for pay := range f.provider.Payments(ctx, "s1") {
		if refund := pay.ID == "tp_r_gone" || pay.ID == "tp_orphan"; pay.Refunded != refund {
			t.Errorf("payment %s refunded = %v, want %v", pay.ID, pay.Refunded, refund)
		}
	}
	var recorded []string
	if err := f.db.Select(&recorded, `SELECT payment_ref || ' ' || coalesce(order_id::text, '-') || ' ' || amount_cents || ' ' || currency
		FROM refunds ORDER BY payment_ref`); err != nil {
		t.Fatal(err)
	}
	if want := []string{"tp_orphan - 1500 EUR", "tp_r_gone " + itoa(gone) + " 1500 EUR"}; !slices.Equal(recorded, want) {
		t.Errorf("refunds recorded %q, want %q", recorded, want)
	}
	// The cancelled order's shopper is told of its refund, as of one the
	// worker makes; no other shopper is (the orphan has none).
	if told := f.refundsTold(t); !slices.Equal(told, []string{"r_gone"}) {
		t.Errorf("shoppers told of a refund: %q, want the cancelled order's (r_gone) alone", told)
	}
	var sold int
	if err := f.db.Get(&sold, `SELECT sold FROM sales WHERE id = 's1'`); err != nil || sold != 5 {
		t.Errorf("sold = %d (%v), want 5: marking paid sells no unit again", sold, err)
	}

	// What is left is what no fix may touch; the rest reconciles.
	out.Reset()
	rep, err = f.r.Run(ctx, "s1")
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Differences) != 2 {
		rep.Print(&out)
		t.Errorf("after repair: %d differences, want 2 (not paid there, amount)\n%s", len(rep.Differences), out.String())
	}
}

func TestReconcilePaymentsExitsZeroWhenTheProviderAgrees(t *testing.T) {
	f := newPaymentsFixture(t)
	id := f.order(t, "r_1", "paid")
	f.paid(id, "r_1", 1500)
	f.order(t, "r_2", "pending_payment")
	var out bytes.Buffer
	if err := f.r.Reconcile(t.Context(), "s1", false, &out); err != nil {
		t.Fatalf("reconcile: %v, want nil (exit 0)\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "2 payments at the provider, 2 orders") || !strings.Contains(out.String(), "no difference") {
		t.Errorf("report:\n%s", out.String())
	}
	if err := f.r.Reconcile(t.Context(), "nope", false, &out); !errors.Is(err, reconcile.ErrNoSale) {
		t.Errorf("unknown sale: %v, want ErrNoSale", err)
	}
}

func (f *paymentsFixture) orderID(t *testing.T, reservation string) int64 {
	t.Helper()
	var id int64
	if err := f.db.Get(&id, `SELECT id FROM orders WHERE reservation_id = $1`, reservation); err != nil {
		t.Fatal(err)
	}
	return id
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestAnOrderPaidAtTheProviderForAnotherAmountIsReportedButNotMarkedPaid(t *testing.T) {
	f := newPaymentsFixture(t)
	id := f.order(t, "r_short", "pending_payment")
	f.paid(id, "r_short", 999)
	var out bytes.Buffer
	if err := f.r.Reconcile(t.Context(), "s1", true, &out); !errors.Is(err, reconcile.ErrPaymentsDiffer) {
		t.Fatalf("repair: %v, want ErrPaymentsDiffer\n%s", err, out.String())
	}
	if s := f.status(t, id); s != "pending_payment" {
		t.Errorf("an order paid 999 of 1500 is %s after repair, want still pending_payment", s)
	}
	if !strings.Contains(out.String(), reconcile.KindAmount) || !strings.Contains(out.String(), reconcile.KindPaidNotHere) ||
		strings.Contains(out.String(), "repaired") {
		t.Errorf("report:\n%s", out.String())
	}
}

// refundsTold lists the reservations whose shoppers were told `refunded` on
// the sale's event stream, as the gateways read it.
func (f *paymentsFixture) refundsTold(t *testing.T) []string {
	t.Helper()
	entries, err := f.rdb.XRange(t.Context(), waitingroom.Keys("s1").Events, "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	var told []string
	for _, e := range entries {
		event, err := waitingroom.DecodeEvent(e)
		if err != nil {
			t.Fatalf("event %s: %v", e.ID, err)
		}
		for _, o := range event.OrderNews() {
			if o.Status == worker.OrderRefunded {
				told = append(told, o.Reservation)
			}
		}
	}
	return told
}
