package waitingroom

import (
	"context"
	"encoding/hex"
	"sync"
	"testing"
	"time"

	_ "github.com/lib/pq"
)

// TestGatewaysCopyingSpendsAtOnceRecordEachOnceAndLeaveASpendTheyDidNotRead
// spends two codes, lets two gateways copy at once, then copies one spend
// of two by hand: each use is recorded as the join made it, and only what a
// copy wrote leaves the set of spends to copy.
func TestGatewaysCopyingSpendsAtOnceRecordEachOnceAndLeaveASpendTheyDidNotRead(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	o, db, rdb, sale := invitedOperatorSale(t, ctx)
	codes, err := o.NewInviteCodes(ctx, sale.ID, 4, "test")
	if err != nil {
		t.Fatal(err)
	}
	usedBy := func(code string) string {
		var by *string
		if err := db.GetContext(ctx, &by, `SELECT used_by FROM sale_invite_codes WHERE sale_id = $1 AND digest = $2`,
			sale.ID, inviteDigest(code)); err != nil {
			t.Fatal(err)
		}
		if by == nil {
			return ""
		}
		return *by
	}
	k := Keys(sale.ID)
	for i, shopper := range []string{"v_one", "v_two"} {
		if _, err := o.rooms.JoinWith(ctx, sale.ID, shopper, "t_"+shopper, Pass{Invite: codes[i]}); err != nil {
			t.Fatalf("%s joining with a code: %v", shopper, err)
		}
	}
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			if err := o.RecordInviteSpends(ctx); err != nil {
				t.Errorf("copying spends: %v", err)
			}
		})
	}
	wg.Wait()
	if usedBy(codes[0]) != "v_one" || usedBy(codes[1]) != "v_two" || usedBy(codes[2]) != "" {
		t.Errorf("Postgres records the codes as used by %q, %q, %q; want v_one, v_two and nobody",
			usedBy(codes[0]), usedBy(codes[1]), usedBy(codes[2]))
	}
	if n := rdb.SCard(ctx, k.Spent).Val(); n != 0 {
		t.Errorf("%d spends left to copy after both copies, want 0", n)
	}

	// A copy that read one spend leaves the other, which landed after it
	// read, for the next tick.
	for i, shopper := range []string{"v_three", "v_four"} {
		if _, err := o.rooms.JoinWith(ctx, sale.ID, shopper, "t_"+shopper, Pass{Invite: codes[2+i]}); err != nil {
			t.Fatalf("%s joining with a code: %v", shopper, err)
		}
	}
	if err := o.recordSpends(ctx, sale.ID, []string{hex.EncodeToString(inviteDigest(codes[2]))}); err != nil {
		t.Fatal(err)
	}
	left := rdb.SMembers(ctx, k.Spent).Val()
	if len(left) != 1 || left[0] != hex.EncodeToString(inviteDigest(codes[3])) || usedBy(codes[3]) != "" {
		t.Errorf("after copying one spend of two the set holds %v and the other is used by %q in Postgres", left, usedBy(codes[3]))
	}
	if err := o.RecordInviteSpends(ctx); err != nil || usedBy(codes[3]) != "v_four" || rdb.Exists(ctx, k.Spent).Val() != 0 {
		t.Errorf("the next tick: %v, the code used by %q", err, usedBy(codes[3]))
	}
}
