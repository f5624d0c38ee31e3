package main

import (
	"errors"
	"io"
	"testing"

	"github.com/foyerhq/foyer/internal/app"
)

func TestReconcileTakesASaleThenPaymentsAndRepairOnceEachInAnyOrder(t *testing.T) {
	for _, c := range []struct {
		args             []string
		payments, repair bool
		ok               bool
	}{
		{[]string{"s1"}, false, false, true},
		{[]string{"s1", "--repair"}, false, true, true},
		{[]string{"s1", "--payments"}, true, false, true},
		{[]string{"s1", "--repair", "--payments"}, true, true, true},
		{[]string{"s1", "--payments", "--repair"}, true, true, true},
		{[]string{}, false, false, false},
		{[]string{"--payments", "s1"}, false, false, false},
		{[]string{"s1", "--payments", "--payments"}, false, false, false},
		{[]string{"s1", "--fix"}, false, false, false},
		{[]string{"s1", "s2"}, false, false, false},
	} {
		sale, payments, repair, ok := reconcileArgs(c.args)
		if ok != c.ok || payments != c.payments || repair != c.repair || (ok && sale != "s1") {
			t.Errorf("reconcileArgs(%q) = %q, %v, %v, %v; want s1, %v, %v, %v", c.args, sale, payments, repair, ok,
				c.payments, c.repair, c.ok)
		}
	}
}

// The test provider's ledger lives in the worker that charged: reconcile
// says so instead of reporting every order as unpaid at the provider, and
// connects nowhere first.
func TestReconcilePaymentsWithTheTestProviderSaysItsLedgerIsOutOfReach(t *testing.T) {
	env := map[string]string{"FOYER_REDIS_URL": "redis://127.0.0.1:1/0",
		"FOYER_DATABASE_URL": "postgres://nobody@127.0.0.1:1/none?sslmode=disable"}
	err := realMain(t.Context(), []string{"reconcile", "s1", "--payments"}, env, io.Discard)
	if !errors.Is(err, app.ErrNoLedger) {
		t.Errorf("reconcile --payments with the test provider: %v, want app.ErrNoLedger", err)
	}
}
