package main

import "testing"

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
