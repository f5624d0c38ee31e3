package salehistory

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/foyerhq/foyer/waitingroom"
)

// A finished sale's report tells its funnel, payments, waits, flags and
// draw, from Redis while it is there and from the copy in Postgres once
// Redis has lost it; its public report is refused until published, and
// then names no shopper.
func TestTheReportOfAFinishedSaleOutlivesRedisAndItsPublicReportNamesNoShopper(t *testing.T) {
	rdb, db := newServers(t)
	ctx := context.Background()
	saleID := openSale(t, rdb, db, 6)
	rooms := waitingroom.NewRooms(rdb)
	// The admitter lets the six out (ten units, 1,000 a second).
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := rooms.CountersOf(ctx, []string{saleID})
		if err != nil {
			t.Fatal(err)
		}
		if c[saleID].Admitted == 6 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("admitted %d of 6", c[saleID].Admitted)
		}
		time.Sleep(10 * time.Millisecond) // the admitter's ticks announce nothing cheaper to await
	}
	if _, err := rooms.Flag(ctx, saleID, "shopper-005", "203.0.113.9", []string{waitingroom.SignalEarlyJoin}); err != nil {
		t.Fatal(err)
	}
	// Three orders: two paid, one whose payment failed.
	for i, status := range []string{"paid", "paid", "cancelled"} {
		if _, err := db.ExecContext(ctx, `INSERT INTO orders (sale_id, reservation_id, shopper_id, transaction_id,
			price_cents, status, confirmed_at) VALUES ($1, $2, $3, 't', 1000, $4, now())`,
			saleID, "r_test_"+string(rune('1'+i)), "shopper-00"+string(rune('0'+i)), status); err != nil {
			t.Fatal(err)
		}
	}
	op := waitingroom.NewOperator(waitingroom.NewCatalog(db), rooms)
	if _, err := op.Control(ctx, saleID, waitingroom.Control{Action: waitingroom.ActionStop, Actor: "test"}); err != nil {
		t.Fatal(err)
	}
	s := NewSampler(rdb, db, "node-1", quietLog())
	if err := s.tick(ctx, time.Now()); err != nil { // samples and copies at once: its first flush is due
		t.Fatal(err)
	}
	reports := NewReports(rdb, db)
	live, err := reports.Report(ctx, saleID)
	if err != nil {
		t.Fatal(err)
	}
	check := func(rep Report, from string) {
		t.Helper()
		if rep.Funnel != (Funnel{Joined: 6, Admitted: 6, CheckedOut: 0, Orders: 3}) {
			t.Errorf("%s: funnel %+v, want 6 joined and admitted, 3 orders", from, rep.Funnel)
		}
		if rep.Payments.Paid.Count != 2 || rep.Payments.Failed.Count != 1 || rep.Payments.Paid.AmountCents != 2000 {
			t.Errorf("%s: payments %+v, want 2 paid (20.00), 1 failed", from, rep.Payments)
		}
		if rep.Waits.Overall.Shoppers != 6 || len(rep.Waits.ByMinute) == 0 || rep.Waits.BucketError <= 0 {
			t.Errorf("%s: waits %+v, want the six shoppers' by their arrival minute", from, rep.Waits)
		}
		if rep.Flags.Flagged != 1 || rep.Flags.BySignal[waitingroom.SignalEarlyJoin] != 1 || rep.Flags.Policy != waitingroom.FlagPolicyAllow {
			t.Errorf("%s: flags %+v, want one early_join, policy allow", from, rep.Flags)
		}
		if rep.State != waitingroom.StateEnded {
			t.Errorf("%s: state %q, want ended", from, rep.State)
		}
	}
	check(live, "from Redis")
	if !live.Live {
		t.Error("a report read while Redis has the sale says it is not live")
	}
	var out bytes.Buffer
	if err := WriteCSV(&out, live); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&out).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	values := map[string]string{}
	for _, r := range rows {
		values[r[0]+"/"+r[1]] = r[2]
	}
	for key, want := range map[string]string{"funnel/admitted": "6", "payments/paid_count": "2", "waits/all shoppers": "6",
		"flags/signal early_join": "1", "sale/state": "ended"} {
		if values[key] != want {
			t.Errorf("CSV %s = %q, want %q", key, values[key], want)
		}
	}

	// Redis loses everything: the report comes from Postgres.
	if err := rdb.FlushAll(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	kept, err := reports.Report(ctx, saleID)
	if err != nil {
		t.Fatal(err)
	}
	check(kept, "from Postgres")
	if kept.Live || kept.Waits.Overall != live.Waits.Overall {
		t.Errorf("from Postgres: live %v, waits %+v; want the copy's %+v", kept.Live, kept.Waits.Overall, live.Waits.Overall)
	}

	if _, err := reports.Fairness(ctx, saleID); !errors.Is(err, ErrUnpublished) {
		t.Fatalf("the fairness report before publishing: %v, want ErrUnpublished", err)
	}
	if at, err := reports.PublishFairness(ctx, saleID, true, "test"); err != nil || at == nil {
		t.Fatalf("publish: %v, %v", at, err)
	}
	fair, err := reports.Fairness(ctx, saleID)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(fair)
	if strings.Contains(string(body), "shopper-") || strings.Contains(string(body), "203.0.113.9") {
		t.Errorf("the public report names a shopper or an address: %s", body)
	}
	if fair.Admitted != 6 || fair.Sold != 2 || fair.Flagged != 1 {
		t.Errorf("public report %s: want 6 admitted, 2 sold, 1 flagged", body)
	}
	var audited int
	if err := db.GetContext(ctx, &audited, `SELECT count(*) FROM admin_actions WHERE sale_id = $1 AND action = 'fairness_published'`, saleID); err != nil || audited != 1 {
		t.Errorf("%d audit rows of the publishing (err %v), want 1", audited, err)
	}
	if _, err := reports.PublishFairness(ctx, saleID, false, "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := reports.Fairness(ctx, saleID); !errors.Is(err, ErrUnpublished) {
		t.Errorf("the fairness report once withdrawn: %v, want ErrUnpublished", err)
	}
}
