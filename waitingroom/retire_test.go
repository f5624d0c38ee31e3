package waitingroom

import (
	"context"
	"testing"
	"time"

	"github.com/foyerhq/foyer/internal/testenv"
)

// An invite code spent in the last second of a sale is in Redis alone
// until a gateway copies it into Postgres, and gateways copy the spends of
// the active sales only: a finished sale stays active until its spends are
// copied, or a Redis lost after that would give the code back unused.
func TestAFinishedSaleWithASpendNotYetCopiedIsNotRetired(t *testing.T) {
	rdb := testenv.RedisClient(t, testenv.NewRedis(t))
	rooms := NewRooms(rdb)
	ctx := context.Background()
	p := validPlan()
	p.ID = "s_spent"
	p.StartsAt, p.EndsAt = time.Now().Add(-time.Minute), time.Now().Add(time.Hour)
	if err := rooms.Load(ctx, &p); err != nil {
		t.Fatal(err)
	}
	k := Keys(p.ID)
	if err := rdb.SAdd(ctx, k.Spent, "abc123").Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.HSet(ctx, k.Meta, "state", string(StateEnded)).Err(); err != nil {
		t.Fatal(err)
	}
	a := NewAdmitter(rdb, "n1", quietLog())
	if err := a.retireIfSettled(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	if !rdb.SIsMember(ctx, ActiveSales, p.ID).Val() {
		t.Fatal("the sale was retired with a spent invite code not yet in Postgres")
	}
	if err := rdb.Del(ctx, k.Spent).Err(); err != nil { // copied, as RecordInviteSpends leaves it
		t.Fatal(err)
	}
	if err := a.retireIfSettled(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	if rdb.SIsMember(ctx, ActiveSales, p.ID).Val() {
		t.Error("the sale is still active with nothing left in flight")
	}
}
