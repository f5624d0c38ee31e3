package app_test

import (
	"context"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/foyerhq/foyer/waitingroom"
)

// TestASpentInviteCodeReachesPostgresWithinASecondSoARestoredSaleStillRefusesIt
// spends a code and, without anybody reading the sale's invitations, waits
// for Postgres to record the use. Redis then loses everything; a gateway
// that starts puts the sale back from Postgres, and a second shopper with
// the same code is refused, where the code used to come back unused.
func TestASpentInviteCodeReachesPostgresWithinASecondSoARestoredSaleStillRefusesIt(t *testing.T) {
	sys := startNodes(t, 1, withIdentitySecret())
	saleID := sys.invitedSale(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code := sys.inviteCodes(t, saleID, 1)[0]
	expectPosition(t, ctx, arriveWithInvite(t, ctx, sys, saleID, code), 1, "the first shopper with the code")

	spentAt := time.Now()
	used := `SELECT count(*) FROM sale_invite_codes WHERE sale_id = $1 AND used_by LIKE 'v_%' AND used_at IS NOT NULL`
	for sys.count(t, used, saleID) != 1 {
		select {
		case <-ctx.Done():
			t.Fatal("the spent code never reached Postgres")
		case <-time.After(20 * time.Millisecond): // the gateway's next tick
		}
	}
	if waited := time.Since(spentAt); waited > waitingroom.InviteSpendsEvery+time.Second {
		t.Errorf("the spend took %v to reach Postgres, want about %v at most", waited, waitingroom.InviteSpendsEvery)
	}
	// What was copied is taken from the set: it holds only what is not yet.
	k := waitingroom.Keys(saleID)
	for sys.Redis.SCard(ctx, k.Spent).Val() != 0 {
		select {
		case <-ctx.Done():
			t.Fatal("the copied spend stays in the sale's set of spends to copy")
		case <-time.After(20 * time.Millisecond):
		}
	}

	if err := sys.Redis.FlushAll(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	restored := sys.startGateway(t, "n-restored")
	if uses := sys.Redis.HGetAll(ctx, k.Invites).Val(); len(uses) != 1 || slices.Contains(slices.Collect(maps.Values(uses)), "") {
		t.Fatalf("the restored sale's codes are %v, want the one code, used", uses)
	}
	snap := sys.snapshot(t, saleID)
	ws := arriveAt(t, ctx, restored.URL, saleID, "invite="+code)
	m, err := readRaw(t, ctx, ws, "error")
	if err != nil || m.Code != "not_eligible" {
		t.Fatalf("a second shopper with the spent code after the restore: %q (%v), want not_eligible", m.Code, err)
	}
	sys.assertUnchanged(t, saleID, snap, "a code spent before Redis was lost")
}
