package waitingroom

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq"
	"github.com/redis/go-redis/v9"

	"github.com/foyerhq/foyer/internal/testenv"
)

// A review found two changes staging into one shared key: A's swap moved
// B's copy in, and B's swap, finding no copy, emptied the live set. Each
// staged list is its own now, and says itself whether it is empty.
func TestListsStagedTogetherAndSwappedInTurnLeaveTheLastOneSwapped(t *testing.T) {
	ctx := context.Background()
	rdb := testenv.RedisClient(t, testenv.NewRedis(t))
	rooms := NewRooms(rdb)
	live := Keys("s_swap").Invited
	for _, tc := range []struct {
		name  string
		a, b  []string
		wantB []string
	}{
		{"a list, then a longer one", []string{"v_a"}, []string{"v_b1", "v_b2"}, []string{"v_b1", "v_b2"}},
		{"a list, then an empty one", []string{"v_a"}, nil, []string{}},
		{"an empty list, then a list", nil, []string{"v_b"}, []string{"v_b"}},
	} {
		a, err := rooms.stage(ctx, live, tc.a)
		if err != nil {
			t.Fatal(err)
		}
		b, err := rooms.stage(ctx, live, tc.b)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range []staged{a, b} {
			sw, err := rooms.swapIn(ctx, s)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			rooms.drop(ctx, sw)
		}
		got := rdb.SMembers(ctx, live).Val()
		slices.Sort(got)
		if !slices.Equal(got, tc.wantB) {
			t.Errorf("%s: the live set is %v, want the last list swapped in, %v", tc.name, got, tc.wantB)
		}
		if ttl := rdb.PTTL(ctx, live).Val(); ttl > 0 {
			t.Errorf("%s: the live set expires in %v; a staged copy's expiry went with it", tc.name, ttl)
		}
	}
	if left := rdb.Keys(ctx, live+":*").Val(); len(left) != 0 {
		t.Errorf("copies left beside the live set: %v", left)
	}
}

func TestAListSwappedInIsUndoneToTheOneBeforeWhenItsChangeDoesNotCommit(t *testing.T) {
	ctx := context.Background()
	rdb := testenv.RedisClient(t, testenv.NewRedis(t))
	rooms := NewRooms(rdb)
	live := Keys("s_undo").Invited
	for _, before := range [][]string{{"v_old"}, {}} {
		rdb.Del(ctx, live)
		for _, m := range before {
			rdb.SAdd(ctx, live, m)
		}
		next, err := rooms.stage(ctx, live, []string{"v_new"})
		if err != nil {
			t.Fatal(err)
		}
		sw, err := rooms.swapIn(ctx, next)
		if err != nil {
			t.Fatal(err)
		}
		if err := rooms.undo(ctx, sw); err != nil {
			t.Fatal(err)
		}
		if got := rdb.SMembers(ctx, live).Val(); !slices.Equal(got, before) {
			t.Errorf("after undoing a swap over %v the live set is %v", before, got)
		}
	}
}

// Changes of one sale's list, six at a time, and a gateway's restore, running
// at once (the old shared copy lost the list within a few rounds of this):
// whatever the interleaving, Redis ends with the list Postgres committed
// last, never an empty set or an older list.
func TestConcurrentInviteeChangesAndRestoresLeaveRedisWithTheListPostgresHas(t *testing.T) {
	// No wall of its own: it asserts what Redis ends with, not how fast,
	// and 30 s was passed on a slow host under the suite's other tests.
	ctx := t.Context()
	o, _, rdb, sale := invitedOperatorSale(t, ctx)
	for round := range 40 {
		var wg sync.WaitGroup
		for w := range 6 {
			wg.Go(func() {
				ids := []string{fmt.Sprintf("r%d_w%d_a", round, w), fmt.Sprintf("r%d_w%d_b", round, w)}
				if err := o.ReplaceInvitees(ctx, sale.ID, ids, "test"); err != nil {
					t.Errorf("replacing the list: %v", err)
				}
			})
		}
		if round%3 == 0 {
			wg.Go(func() {
				if err := o.RestoreInvitations(ctx, sale.ID); err != nil {
					t.Errorf("restoring: %v", err)
				}
			})
		}
		wg.Wait()
		ids, err := o.Invitees(ctx, sale.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := make([]string, len(ids))
		for i, id := range ids {
			want[i] = o.CustomerShopper(id)
		}
		got := rdb.SMembers(ctx, Keys(sale.ID).Invited).Val()
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Fatalf("round %d: Redis admits %v, Postgres lists %v", round, got, want)
		}
	}
}

// The swap runs before the commit, under the sale's lock: a commit that
// fails leaves Redis with the list Postgres kept, not the one it refused.
func TestAnInviteeChangeWhoseCommitFailsLeavesRedisWithTheListPostgresKept(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	o, db, rdb, sale := invitedOperatorSale(t, ctx)
	if err := o.ReplaceInvitees(ctx, sale.ID, []string{"kept"}, "test"); err != nil {
		t.Fatal(err)
	}
	// A check Postgres makes only at commit refuses the audit row of actor
	// "doomed": the change is written, swapped in, then not committed.
	if _, err := db.ExecContext(ctx, `
		CREATE FUNCTION refuse_doomed() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN IF NEW.actor = 'doomed' THEN RAISE EXCEPTION 'doomed at commit'; END IF; RETURN NEW; END $$;
		CREATE CONSTRAINT TRIGGER doomed AFTER INSERT ON admin_actions DEFERRABLE INITIALLY DEFERRED
			FOR EACH ROW EXECUTE FUNCTION refuse_doomed();`); err != nil {
		t.Fatal(err)
	}
	for _, ids := range [][]string{{"new_a", "new_b"}, {}} {
		if err := o.ReplaceInvitees(ctx, sale.ID, ids, "doomed"); err == nil {
			t.Fatalf("a change of %v whose commit failed succeeded", ids)
		}
		if got := rdb.SMembers(ctx, Keys(sale.ID).Invited).Val(); !slices.Equal(got, []string{"c_kept"}) {
			t.Errorf("after a failed change to %v Redis admits %v, want Postgres's [c_kept]", ids, got)
		}
		if left := rdb.Keys(ctx, Keys(sale.ID).Invited+":*").Val(); len(left) != 0 {
			t.Errorf("copies left beside the live set: %v", left)
		}
	}
}

// invitedOperatorSale makes an invited sale through an Operator on real
// Postgres and Redis, whose customers' shopper ids are "c_" and the id.
func invitedOperatorSale(t *testing.T, ctx context.Context) (*Operator, *sqlx.DB, *redis.Client, *Plan) {
	t.Helper()
	db, err := sqlx.Open("postgres", testenv.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	rdb := testenv.RedisClient(t, testenv.NewRedis(t))
	o := NewOperator(NewCatalog(db), NewRooms(rdb))
	o.CustomerShopper = func(id string) string { return "c_" + id }
	p := validPlan()
	p.Eligibility = EligibleInvited
	p.StartsAt, p.EndsAt = time.Now().Add(-time.Minute), time.Now().Add(time.Hour)
	sale, err := o.Create(ctx, p, "test")
	if err != nil {
		t.Fatal(err)
	}
	return o, db, rdb, sale
}
