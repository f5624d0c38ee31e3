package waitingroom

import (
	"context"
	"errors"
	stdflag "flag"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/foyerhq/foyer/internal/testenv"
)

func TestMain(m *testing.M) {
	stdflag.Parse()
	guardKeys() // keyguard_test.go: every script here must declare every key it touches
	testenv.Main(m)
}

// openSale loads a sale that has started into a fresh Redis.
func openSale(t *testing.T, stock int) (*redis.Client, *Rooms, string) {
	t.Helper()
	rdb := testenv.RedisClient(t, testenv.NewRedis(t))
	rooms := NewRooms(rdb)
	loadOpenSale(t, rooms, "s_test", stock, 0)
	return rdb, rooms, "s_test"
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// lead makes the admitter the sale's admitter and runs one tick, which opens
// the sale; it returns the fencing token.
func lead(t *testing.T, a *Admitter, saleID string) string {
	t.Helper()
	s := &admission{last: time.Now()}
	a.sales[saleID] = s
	if err := a.runSale(context.Background(), saleID, s, time.Now()); err != nil {
		t.Fatal(err)
	}
	if s.fence == "" {
		t.Fatal("the admitter did not get the lease")
	}
	return s.fence
}

func join(t *testing.T, rooms *Rooms, saleID string, shoppers ...string) {
	t.Helper()
	for _, s := range shoppers {
		if _, err := rooms.Join(context.Background(), saleID, s, "txn-"+s); err != nil {
			t.Fatal(err)
		}
	}
}

func TestJoiningAgainKeepsTheSamePlace(t *testing.T) {
	_, rooms, saleID := openSale(t, 10)
	ctx := context.Background()
	join(t, rooms, saleID, "a", "b", "c")
	first, err := rooms.Join(ctx, saleID, "b", "other-txn")
	if err != nil {
		t.Fatal(err)
	}
	again, err := rooms.Join(ctx, saleID, "b", "third-txn")
	if err != nil {
		t.Fatal(err)
	}
	if first != again || first.Ticket != 2 || first.Position != 2 || first.Txn != "txn-b" {
		t.Errorf("joins of b: %+v then %+v, want ticket 2 at position 2 and b's first txn both times", first, again)
	}
	st, err := rooms.Status(ctx, saleID)
	if err != nil {
		t.Fatal(err)
	}
	if st.Waiting != 3 {
		t.Errorf("%d waiting, want 3", st.Waiting)
	}
}

func TestJoiningAnUnknownSaleFails(t *testing.T) {
	_, rooms, _ := openSale(t, 1)
	_, err := rooms.Join(context.Background(), "s_nope", "a", "t")
	if !errors.Is(err, ErrSaleNotFound) {
		t.Errorf("join unknown sale: %v, want ErrSaleNotFound", err)
	}
}

// Admission writes ids into JSON unescaped; an id that would need escaping
// must never reach a queue.
func TestAJoinWithAnIdThatNeedsEscapingIsRefusedAndChangesNothing(t *testing.T) {
	rdb, rooms, saleID := openSale(t, 10)
	ctx := context.Background()
	for _, c := range []struct{ shopper, txn string }{
		{`v_"x`, ""}, {`v_\x`, ""}, {"v_x\n", ""}, {"", ""}, {"v_é", ""}, {"v_ok", `t"1`},
		{string(make([]byte, 129)), ""},
	} {
		if _, err := rooms.Join(ctx, saleID, c.shopper, c.txn); !errors.Is(err, ErrInvalidShopper) {
			t.Errorf("join as %q (txn %q): %v, want ErrInvalidShopper", c.shopper, c.txn, err)
		}
	}
	if n := rdb.ZCard(ctx, Keys(saleID).Queue).Val(); n != 0 {
		t.Fatalf("%d shoppers queued after refused joins, want 0", n)
	}
	if _, err := rooms.Join(ctx, saleID, "v_Plain-id_09", "t_ok"); err != nil {
		t.Fatalf("a plain id was refused: %v", err)
	}
}

func TestAdmissionIsInArrivalOrderAndNeverHoldsMoreThanAvailable(t *testing.T) {
	rdb, rooms, saleID := openSale(t, 5)
	ctx := context.Background()
	var shoppers []string
	for i := range 12 {
		shoppers = append(shoppers, fmt.Sprintf("shopper-%02d", i))
	}
	join(t, rooms, saleID, shoppers...)
	a := NewAdmitter(rdb, "node-a", quietLog())
	fence := lead(t, a, saleID)

	admitted, err := a.Admit(ctx, saleID, fence, 3)
	if err != nil {
		t.Fatal(err)
	}
	more, err := a.Admit(ctx, saleID, fence, 50)
	if err != nil {
		t.Fatal(err)
	}
	admitted = append(admitted, more...)
	if len(admitted) != 5 {
		t.Fatalf("admitted %d, want the 5 units of stock", len(admitted))
	}
	for i, r := range admitted {
		if r.Shopper != shoppers[i] || r.Txn != "txn-"+shoppers[i] {
			t.Errorf("admission %d went to %s (txn %s), want %s in arrival order", i, r.Shopper, r.Txn, shoppers[i])
		}
	}
	st, err := rooms.Status(ctx, saleID)
	if err != nil {
		t.Fatal(err)
	}
	if st.Available != 0 || st.Held != 5 || st.Waiting != 7 || st.Mark != 5 {
		t.Errorf("after admission: %+v, want available 0, held 5, waiting 7, mark 5", st)
	}
	again, err := rooms.Join(ctx, saleID, shoppers[0], "t")
	if err != nil || again.Reservation != admitted[0].ID {
		t.Errorf("an admitted shopper joining again got %+v (%v), want its reservation", again, err)
	}
}

func TestAStaleAdmitterIsFencedOff(t *testing.T) {
	rdb, rooms, saleID := openSale(t, 5)
	ctx := context.Background()
	join(t, rooms, saleID, "a", "b")
	a := NewAdmitter(rdb, "node-a", quietLog())
	staleFence := lead(t, a, saleID)
	// node-a goes silent; its lease lapses and node-b takes over.
	if err := rdb.Del(ctx, Keys(saleID).Lease).Err(); err != nil {
		t.Fatal(err)
	}
	b := NewAdmitter(rdb, "node-b", quietLog())
	fresh := lead(t, b, saleID)
	if fresh == staleFence {
		t.Fatalf("the new admitter got the old fencing token %s", fresh)
	}
	if _, err := a.Admit(ctx, saleID, staleFence, 1); !errors.Is(err, ErrFenced) {
		t.Errorf("admit with a stale fence: %v, want ErrFenced", err)
	}
	if got, err := b.Admit(ctx, saleID, fresh, 1); err != nil || len(got) != 1 {
		t.Errorf("admit with the fresh fence: %d admitted, %v", len(got), err)
	}
}

func TestExpiredHoldsGoBackToStockAndAreAnnounced(t *testing.T) {
	rdb, rooms, saleID := openSale(t, 2)
	ctx := context.Background()
	join(t, rooms, saleID, "a", "b", "c")
	a := NewAdmitter(rdb, "node-a", quietLog())
	fence := lead(t, a, saleID)
	// Two admissions, one shopper each: holds lapse a batch at a time.
	var admitted []Reservation
	for range 2 {
		got, err := a.Admit(ctx, saleID, fence, 1)
		if err != nil || len(got) != 1 {
			t.Fatalf("admit: %d, %v", len(got), err)
		}
		admitted = append(admitted, got...)
	}
	view, err := rooms.View(ctx, saleID)
	if err != nil {
		t.Fatal(err)
	}
	// The first batch's hold lapses: move its expiry into the past.
	lapse(t, rdb, saleID, admitted[0].ID)
	// A tick at the time of the one before owes no admission: c, still
	// waiting, must not take the unit back before it is counted (on a slow
	// host the 100 ms that owe one at 10/s had passed since lead's tick).
	s := a.sales[saleID]
	if err := a.runSale(ctx, saleID, s, s.last); err != nil {
		t.Fatal(err)
	}
	st, err := rooms.Status(ctx, saleID)
	if err != nil {
		t.Fatal(err)
	}
	if st.Held != 1 || st.Available+st.Held+st.Sold != 2 {
		t.Errorf("after expiry: %+v, want 1 held and every unit accounted for", st)
	}
	events, err := rooms.Events(ctx, saleID, view.LastID, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var released []Released
	for _, e := range events {
		if e.Type == EventExpired {
			released = append(released, e.Released...)
		}
	}
	if len(released) != 1 || released[0].Shopper != "a" || released[0].Reservation != admitted[0].ID {
		t.Errorf("expired events released %+v, want shopper a's reservation", released)
	}
	if place, _ := rooms.Join(ctx, saleID, "a", "t"); place.Reservation != "" || place.Ticket != 4 {
		t.Errorf("a shopper whose hold expired joined again as %+v, want a new ticket at the back", place)
	}
}

// lapse moves the expiry of the batch that made this reservation into the
// past, as time would: every hold of the batch lapses with it.
func lapse(t *testing.T, rdb *redis.Client, saleID, reservation string) {
	t.Helper()
	nonce, _, ok := ParseReservationID(reservation)
	if !ok {
		t.Fatalf("reservation id %q does not name its batch", reservation)
	}
	if err := rdb.ZAdd(context.Background(), Keys(saleID).Holds, redis.Z{Score: 1, Member: nonce}).Err(); err != nil {
		t.Fatal(err)
	}
}

func TestEveryAdmissionIsOnTheEventStreamWithItsMark(t *testing.T) {
	rdb, rooms, saleID := openSale(t, 10)
	ctx := context.Background()
	view, err := rooms.View(ctx, saleID)
	if err != nil {
		t.Fatal(err)
	}
	join(t, rooms, saleID, "a", "b", "c", "d")
	if _, err := rooms.Leave(ctx, saleID, "b"); err != nil {
		t.Fatal(err)
	}
	a := NewAdmitter(rdb, "node-a", quietLog())
	fence := lead(t, a, saleID)
	if _, err := a.Admit(ctx, saleID, fence, 2); err != nil {
		t.Fatal(err)
	}
	events, err := rooms.Events(ctx, saleID, view.LastID, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	p := NewPositions(view)
	var admitted []string
	for _, e := range events {
		switch e.Type {
		case EventGone:
			p.Gone(e.Ticket)
		case EventAdmitted:
			p.Admitted(e.Mark)
			for _, r := range e.Admitted {
				admitted = append(admitted, r.Shopper)
			}
		}
	}
	if fmt.Sprint(admitted) != "[a c]" {
		t.Errorf("admitted %v, want [a c]: b left", admitted)
	}
	if got := p.Of(4); got != 1 {
		t.Errorf("d's position from the events is %d, want 1", got)
	}
}

func TestShoppersOfADeadNodeLoseTheirPlacesAfterTheGracePeriod(t *testing.T) {
	rdb, rooms, saleID := openSale(t, 10)
	ctx := context.Background()
	join(t, rooms, saleID, "on-dead-node", "on-live-node")
	dead, live := NewPresence(rdb, "dead"), NewPresence(rdb, "live")
	// Only the live node keeps a heartbeat.
	if err := rdb.Set(ctx, nodeAlive("live"), 1, time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	if err := dead.Arrive(ctx, saleID, "on-dead-node"); err != nil {
		t.Fatal(err)
	}
	if err := live.Arrive(ctx, saleID, "on-live-node"); err != nil {
		t.Fatal(err)
	}
	a := NewAdmitter(rdb, "admitter", quietLog())
	a.Grace, a.NodeCheckEvery = 0, 0
	rdb.HSet(ctx, Keys(saleID).Meta, "rate", 0.001) // admit nobody: only presence matters here
	lead(t, a, saleID)
	if err := a.runSale(ctx, saleID, a.sales[saleID], time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := rooms.Find(ctx, saleID, "on-dead-node"); ok {
		t.Error("the dead node's shopper kept its place past the grace period")
	}
	if place, ok, _ := rooms.Find(ctx, saleID, "on-live-node"); !ok || place.Position != 1 {
		t.Errorf("the live node's shopper: %+v (found %v), want position 1", place, ok)
	}
}

func TestAShopperConnectedOnAnotherNodeIsNotAwayWhenOneNodeLosesIt(t *testing.T) {
	rdb, rooms, saleID := openSale(t, 10)
	ctx := context.Background()
	join(t, rooms, saleID, "two-tabs")
	n1, n2 := NewPresence(rdb, "n1"), NewPresence(rdb, "n2")
	for _, p := range []*Presence{n1, n2} {
		if err := p.Arrive(ctx, saleID, "two-tabs"); err != nil {
			t.Fatal(err)
		}
	}
	if err := n1.Depart(ctx, saleID, "two-tabs"); err != nil {
		t.Fatal(err)
	}
	if _, err := rdb.ZScore(ctx, Keys(saleID).Away, "two-tabs").Result(); err == nil {
		t.Error("a shopper still connected to n2 was marked away when n1 lost it")
	}
	if err := n2.Depart(ctx, saleID, "two-tabs"); err != nil {
		t.Fatal(err)
	}
	if _, err := rdb.ZScore(ctx, Keys(saleID).Away, "two-tabs").Result(); err != nil {
		t.Errorf("a shopper with no connection left is not away: %v", err)
	}
}

func TestAFinishedSaleLeavesTheActiveListOnceNothingIsInFlight(t *testing.T) {
	rdb, rooms, saleID := openSale(t, 1)
	ctx := context.Background()
	join(t, rooms, saleID, "a")
	a := NewAdmitter(rdb, "node-a", quietLog())
	fence := lead(t, a, saleID)
	admitted, err := a.Admit(ctx, saleID, fence, 1)
	if err != nil || len(admitted) != 1 {
		t.Fatalf("admit: %v", err)
	}
	if err := rdb.HSet(ctx, Keys(saleID).Meta, "state", "ended").Err(); err != nil {
		t.Fatal(err)
	}
	tickOnce := func() {
		t.Helper()
		if err := a.runSale(ctx, saleID, a.sales[saleID], time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	tickOnce()
	if ids, _ := rooms.Active(ctx); len(ids) != 1 {
		t.Fatalf("an ended sale with a live hold left the active list: %v", ids)
	}
	// The hold lapses: nothing can happen to the sale any more.
	lapse(t, rdb, saleID, admitted[0].ID)
	tickOnce()
	if ids, _ := rooms.Active(ctx); len(ids) != 0 {
		t.Errorf("a settled, ended sale is still active: %v", ids)
	}
}
