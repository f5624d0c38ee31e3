package waitingroom

import (
	"context"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/foyerhq/foyer/internal/testenv"
)

// invitedSale loads an invited sale that has started, listing c_alice,
// admitting the group members, with one unused invite code, which it
// returns.
func invitedSale(t *testing.T) (*redis.Client, *Rooms, *Presence, string, string) {
	t.Helper()
	ctx := context.Background()
	rdb := testenv.RedisClient(t, testenv.NewRedis(t))
	rooms := NewRooms(rdb)
	p := validPlan()
	p.ID, p.Eligibility = "s_invited", EligibleInvited
	p.StartsAt, p.EndsAt = time.Now().Add(-time.Minute), time.Now().Add(time.Hour)
	if err := rooms.Load(ctx, &p); err != nil {
		t.Fatal(err)
	}
	k := Keys(p.ID)
	code := newInviteCode()
	if err := rdb.SAdd(ctx, k.Invited, "c_alice").Err(); err != nil {
		t.Fatal(err)
	}
	rdb.SAdd(ctx, k.Groups, "members")
	rdb.HSet(ctx, k.Invites, hex.EncodeToString(inviteDigest(code)), "")
	return rdb, rooms, NewPresence(rdb, "node-1"), p.ID, code
}

// queued reports whether the shopper has a place or a journey in the sale.
func queued(t *testing.T, rdb *redis.Client, saleID, shopper string) bool {
	t.Helper()
	k := Keys(saleID)
	inQueue := rdb.ZScore(context.Background(), k.Queue, shopper).Err() == nil
	return inQueue || rdb.HExists(context.Background(), k.Journeys, shopper).Val()
}

func TestAnInvitedSaleAdmitsItsListItsGroupsAndAnUnusedCodeAndRefusesTheRestWritingNothing(t *testing.T) {
	rdb, rooms, presence, saleID, code := invitedSale(t)
	ctx := context.Background()
	if _, err := rooms.Join(ctx, saleID, "c_alice", "t_alice"); err != nil {
		t.Fatalf("a listed customer: %v", err)
	}
	if _, err := rooms.JoinWith(ctx, saleID, "c_carol", "t_carol", Pass{Groups: []string{"staff", "members"}}); err != nil {
		t.Fatalf("a member of an admitted group: %v", err)
	}
	// The code in small letters and groups of four is the same code.
	typed := strings.ToLower(code[:4] + "-" + code[4:])
	first, err := rooms.JoinWith(ctx, saleID, "v_guest", "t_guest", Pass{Invite: typed})
	if err != nil {
		t.Fatalf("a guest with an unused code: %v", err)
	}
	again, err := rooms.JoinWith(ctx, saleID, "v_guest", "t_guest", Pass{Invite: code})
	if err != nil || again.Ticket != first.Ticket {
		t.Fatalf("the code's spender bringing it again: ticket %d (%v), want %d", again.Ticket, err, first.Ticket)
	}

	for _, tc := range []struct {
		shopper string
		pass    Pass
		want    string
	}{
		{"c_bob", Pass{}, "admits only"},
		{"c_bob", Pass{Groups: []string{"staff"}}, "admits only"},
		{"v_other", Pass{Invite: code}, "used already"},
		{"v_other", Pass{Invite: newInviteCode()}, "admits only"},
		{"v_other", Pass{Invite: "not a code!"}, "invite code"},
	} {
		_, err := rooms.JoinWith(ctx, saleID, tc.shopper, "t_"+tc.shopper, tc.pass)
		if !errors.Is(err, ErrNotEligible) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s with %+v: %v, want ErrNotEligible saying %q", tc.shopper, tc.pass, err, tc.want)
		}
		a, err := presence.ArriveAndJoinWith(ctx, saleID, tc.shopper, "t_"+tc.shopper, true, tc.pass)
		if err == nil && !errors.Is(a.JoinErr, ErrNotEligible) {
			t.Errorf("%s with %+v arriving: %v, want ErrNotEligible", tc.shopper, tc.pass, a.JoinErr)
		}
		if queued(t, rdb, saleID, tc.shopper) {
			t.Errorf("%s with %+v was refused but has a place or a journey", tc.shopper, tc.pass)
		}
	}
	if by := rdb.HGet(ctx, Keys(saleID).Invites, hex.EncodeToString(inviteDigest(code))).Val(); !strings.HasPrefix(by, "v_guest:") {
		t.Errorf("the code is spent by %q, want v_guest at a time", by)
	}
}

func TestAShopperWaitingInAnInvitedSaleKeepsItsPlaceOnceTheListDropsIt(t *testing.T) {
	rdb, rooms, _, saleID, _ := invitedSale(t)
	ctx := context.Background()
	first, err := rooms.Join(ctx, saleID, "c_alice", "t_alice")
	if err != nil {
		t.Fatal(err)
	}
	rdb.Del(ctx, Keys(saleID).Invited)
	again, err := rooms.Join(ctx, saleID, "c_alice", "t_alice")
	if err != nil || again.Ticket != first.Ticket {
		t.Fatalf("rejoining after the list dropped it: ticket %d (%v), want %d", again.Ticket, err, first.Ticket)
	}
}

func TestASaleOpenToEveryoneLooksAtNoListOrCode(t *testing.T) {
	_, rooms, saleID := openSale(t, 5)
	if _, err := rooms.JoinWith(context.Background(), saleID, "v_anyone", "t_anyone", Pass{Invite: newInviteCode()}); err != nil {
		t.Fatalf("a join of a sale open to everyone, with a code nobody made: %v", err)
	}
}

func TestAnInviteeListIsReadWithItsHeaderAndRepeatsOnceAndABadRowRefusesItAll(t *testing.T) {
	ids, dupes, err := ParseInvitees(strings.NewReader("\ufeffcustomer_id\r\nalice\r\nbob@example.com\r\nalice\r\n\r\n\"c,1\"\r\n"))
	if err != nil || strings.Join(ids, "|") != "alice|bob@example.com|c,1" || dupes != 1 {
		t.Fatalf("ParseInvitees = %q, %d, %v", ids, dupes, err)
	}
	for name, body := range map[string]string{
		"two columns":          "alice,bob\n",
		"an open quote":        "\"alice\n",
		"an empty id":          "alice\n\"\"\n",
		"a space in an id":     "alice smith\n",
		"a tab in an id":       "\"alice\tsmith\"\n",
		"a NUL":                "alice\x00\n",
		"invalid UTF-8":        "\xff\xfe\n",
		"an id of 129":         strings.Repeat("a", 129) + "\n",
		"a header not first":   "alice\ncustomer_id,x\n",
		"100,001 customer ids": manyIDs(MaxInvitees + 1),
	} {
		if _, _, err := ParseInvitees(strings.NewReader(body)); !errors.Is(err, ErrInvitationsInvalid) {
			t.Errorf("%s: %v, want ErrInvitationsInvalid", name, err)
		}
	}
	if ids, _, err := ParseInvitees(strings.NewReader(manyIDs(MaxInvitees))); err != nil || len(ids) != MaxInvitees {
		t.Errorf("100,000 customer ids: %d, %v", len(ids), err)
	}
}

func manyIDs(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString("customer-")
		b.WriteString(hex.EncodeToString([]byte{byte(i >> 16), byte(i >> 8), byte(i)}))
		b.WriteByte('\n')
	}
	return b.String()
}

func TestTheGroupsOfASaleAreBounded(t *testing.T) {
	many := make([]string, MaxSaleGroups+1)
	for i := range many {
		many[i] = "g" + hex.EncodeToString([]byte{byte(i)})
	}
	for name, groups := range map[string][]string{
		"101 groups":   many,
		"an empty one": {"members", ""},
		"a space":      {"vip members"},
		"65 long":      {strings.Repeat("g", 65)},
		"twice":        {"members", "members"},
		"a control":    {"mem\x01bers"},
	} {
		if err := CheckGroups(groups); !errors.Is(err, ErrInvitationsInvalid) {
			t.Errorf("%s: %v, want ErrInvitationsInvalid", name, err)
		}
	}
	if err := CheckGroups(many[:MaxSaleGroups]); err != nil {
		t.Errorf("100 groups: %v", err)
	}
}

func TestShoppersRacingWithOneInviteCodeGetOnePlaceBetweenThem(t *testing.T) {
	rdb, rooms, _, saleID, code := invitedSale(t)
	const racers = 20
	errs := make(chan error, racers)
	for i := range racers {
		go func() {
			shopper := "v_racer" + hex.EncodeToString([]byte{byte(i)})
			_, err := rooms.JoinWith(context.Background(), saleID, shopper, "t_"+shopper, Pass{Invite: code})
			errs <- err
		}()
	}
	in := 0
	for range racers {
		switch err := <-errs; {
		case err == nil:
			in++
		case !errors.Is(err, ErrNotEligible):
			t.Errorf("a racer: %v, want in or ErrNotEligible", err)
		}
	}
	if waiting := rdb.ZCard(context.Background(), Keys(saleID).Queue).Val(); in != 1 || waiting != 1 {
		t.Errorf("%d racers got in and %d wait, want 1 and 1", in, waiting)
	}
}
