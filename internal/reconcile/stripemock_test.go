package reconcile_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/foyerhq/foyer/internal/reconcile"
	"github.com/foyerhq/foyer/internal/stripepay"
	"github.com/foyerhq/foyer/internal/testenv"
)

// stripe-mock answers every search with one fixture PaymentIntent that
// names no order of ours and waits for a payment method. Reconciling a sale
// against it proves the whole command runs on Stripe's real API shapes: the
// search is sent and read, the fixture is reported as a payment with no
// order, the exit is 1, and --repair refunds nothing that was not paid.
// Which fix each difference gets is proved against the stateful test
// provider (payments_test.go): stripe-mock cannot say a payment succeeded.
func TestReconcilePaymentsAgainstStripeMockReportsItsFixtureAndRefundsNothingUnpaid(t *testing.T) {
	f := newPaymentsFixture(t)
	mock := testenv.NewStripeMock(t)
	provider, err := stripepay.New(stripepay.Config{SecretKey: "sk_test_foyer", APIBase: mock.URL()})
	if err != nil {
		t.Fatal(err)
	}
	f.r = reconcile.NewPaymentReconciler(f.db, provider, nil)
	f.order(t, "r_1", "pending_payment")
	var out bytes.Buffer
	err = f.r.Reconcile(t.Context(), "s1", true, &out)
	if !errors.Is(err, reconcile.ErrPaymentsDiffer) {
		t.Fatalf("reconcile: %v, want ErrPaymentsDiffer (exit 1)\n%s", err, out.String())
	}
	for _, want := range []string{"1 payments at the provider, 1 orders", reconcile.KindNoOrder + ": order none",
		"pending", "repair: none"} { // the fixture's requires_payment_method, read as pending
		if !strings.Contains(out.String(), want) {
			t.Errorf("report has no %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "refunded") {
		t.Errorf("repair refunded an unpaid payment:\n%s", out.String())
	}
}
