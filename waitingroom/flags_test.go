package waitingroom

import (
	"context"
	"errors"
	"slices"
	"testing"
)

// flag records signals and fails the test on an error.
func flag(t *testing.T, rooms *Rooms, saleID, shopper, addr string, signals ...string) FlagOutcome {
	t.Helper()
	out, err := rooms.Flag(context.Background(), saleID, shopper, addr, signals)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// ticketOf is a shopper's queue ticket, 0 when it is not in the queue.
func ticketOf(t *testing.T, rooms *Rooms, saleID, shopper string) int64 {
	t.Helper()
	tickets, err := rooms.Tickets(context.Background(), saleID, []string{shopper})
	if err != nil {
		t.Fatal(err)
	}
	return tickets[shopper]
}

// eventsOf lists the sale's events of the given types, oldest first.
func eventsOf(t *testing.T, rooms *Rooms, saleID string, types ...string) []Event {
	t.Helper()
	all, err := rooms.Events(context.Background(), saleID, "0-0", -1, 10000)
	if err != nil {
		t.Fatal(err)
	}
	var events []Event
	for _, e := range all {
		if slices.Contains(types, e.Type) {
			events = append(events, e)
		}
	}
	return events
}

func TestAShoppersFlagsAreMergedNotOverwrittenAndAllowOnlyRecords(t *testing.T) {
	_, rooms, saleID := openSale(t, 10)
	join(t, rooms, saleID, "a", "b", "c")
	if out := flag(t, rooms, saleID, "b", "192.0.2.1", SignalEarlyJoin); out.Outcome != FlagKept || out.Policy != FlagPolicyAllow {
		t.Fatalf("flag under the default policy: %+v, want recorded only, policy allow", out)
	}
	flag(t, rooms, saleID, "b", "192.0.2.99", SignalManyIdentities, SignalEarlyJoin)
	flag(t, rooms, saleID, "c", "192.0.2.3", SignalFastCheckout)
	rep, err := rooms.Flags(context.Background(), saleID, 1)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Policy != FlagPolicyAllow || rep.Flagged != 2 || len(rep.Shoppers) != 1 || !rep.Truncated {
		t.Fatalf("report with a limit of 1: %+v, want allow, 2 flagged, 1 shown, truncated", rep)
	}
	rep, _ = rooms.Flags(context.Background(), saleID, 10)
	byShopper := map[string]FlaggedShopper{}
	for _, f := range rep.Shoppers {
		byShopper[f.Shopper] = f
	}
	b := byShopper["b"]
	if !slices.Equal(b.Signals, []string{SignalEarlyJoin, SignalManyIdentities}) || b.IP != "192.0.2.1" || b.FirstAt.IsZero() {
		t.Errorf("b's record %+v: want both signals once, in the order seen, and the first address", b)
	}
	if rep.Shoppers[0].FirstAt.Before(rep.Shoppers[1].FirstAt) {
		t.Errorf("shoppers %+v are not newest first", rep.Shoppers)
	}
	for _, s := range []string{"a", "b", "c"} {
		if ticketOf(t, rooms, saleID, s) == 0 {
			t.Errorf("%s left the queue under allow", s)
		}
	}
}

func TestUnderBackAFlaggedShopperTakesANewTicketBehindEveryoneOncePerSignal(t *testing.T) {
	rdb, rooms, saleID := openSale(t, 10)
	join(t, rooms, saleID, "a", "b", "c", "d")
	rdb.HSet(context.Background(), Keys(saleID).Meta, "flagged_policy", "back")

	out := flag(t, rooms, saleID, "b", "192.0.2.2", SignalEarlyJoin)
	if out.Outcome != FlagRequeued || out.Ticket != 5 || out.Position != 4 {
		t.Fatalf("b flagged under back: %+v, want requeued to ticket 5 at position 4 (behind a, c and d)", out)
	}
	view, err := rooms.View(context.Background(), saleID)
	if err != nil {
		t.Fatal(err)
	}
	pos := NewPositions(view)
	for shopper, want := range map[string]int64{"a": 1, "c": 2, "d": 3, "b": 4} {
		if got := pos.Of(ticketOf(t, rooms, saleID, shopper)); got != want {
			t.Errorf("%s at position %d, want %d", shopper, got, want)
		}
	}
	events := eventsOf(t, rooms, saleID, EventGone, EventRequeued)
	if len(events) != 2 || events[0].Type != EventGone || events[0].Ticket != 2 ||
		events[1].Type != EventRequeued || events[1].Shopper != "b" || events[1].Ticket != 5 {
		t.Errorf("events %+v, want gone 2 then requeued b to 5", events)
	}
	// The same signal again moves nothing; neither does a shopper at the back.
	if again := flag(t, rooms, saleID, "b", "192.0.2.2", SignalEarlyJoin); again.Outcome != FlagKept {
		t.Errorf("the same signal again: %+v, want nothing moved", again)
	}
	join(t, rooms, saleID, "e")
	if last := flag(t, rooms, saleID, "e", "192.0.2.5", SignalManyIdentities); last.Outcome != FlagKept || ticketOf(t, rooms, saleID, "e") != 6 {
		t.Errorf("the last shopper flagged: %+v, want it left where it is, behind everyone already", last)
	}
}

func TestUnderRemoveAFlaggedShopperLeavesTheQueueAndMayNotJoinAgain(t *testing.T) {
	rdb, rooms, saleID := openSale(t, 10)
	join(t, rooms, saleID, "a", "b", "c")
	rdb.HSet(context.Background(), Keys(saleID).Meta, "flagged_policy", "remove")
	if out := flag(t, rooms, saleID, "b", "192.0.2.2", SignalManyIdentities); out.Outcome != FlagRemoved {
		t.Fatalf("b flagged under remove: %+v, want removed", out)
	}
	if ticketOf(t, rooms, saleID, "b") != 0 {
		t.Error("b is still in the queue")
	}
	events := eventsOf(t, rooms, saleID, EventGone, EventRemoved)
	if len(events) != 2 || events[0].Ticket != 2 || events[1].Type != EventRemoved || events[1].Shopper != "b" {
		t.Errorf("events %+v, want gone 2 then removed b", events)
	}
	if _, err := rooms.Join(context.Background(), saleID, "b", "t"); !errors.Is(err, ErrFlagged) {
		t.Errorf("b joins again: %v, want ErrFlagged", err)
	}
	if place, err := rooms.Join(context.Background(), saleID, "d", "t"); err != nil || place.Position != 3 {
		t.Errorf("an unflagged shopper joins: %+v, %v; want position 3", place, err)
	}
}

func TestAPolicySetLaterAppliesToEveryoneFlaggedSoFarInTheirOrder(t *testing.T) {
	_, rooms, saleID := openSale(t, 10)
	join(t, rooms, saleID, "a", "b", "c", "d")
	flag(t, rooms, saleID, "c", "192.0.2.3", SignalEarlyJoin)
	flag(t, rooms, saleID, "a", "192.0.2.1", SignalEarlyJoin)
	ctx := context.Background()
	applied, err := rooms.applyFlaggedPolicy(ctx, saleID, FlagPolicyBack)
	if err != nil || applied.Requeued != 2 {
		t.Fatalf("back: %+v, %v; want 2 requeued", applied, err)
	}
	if a, c := ticketOf(t, rooms, saleID, "a"), ticketOf(t, rooms, saleID, "c"); a != 5 || c != 6 {
		t.Errorf("a and c have tickets %d and %d, want 5 and 6: behind b and d, in their old order", a, c)
	}
	applied, err = rooms.applyFlaggedPolicy(ctx, saleID, FlagPolicyRemove)
	if err != nil || applied.Removed != 2 {
		t.Fatalf("remove: %+v, %v; want 2 removed", applied, err)
	}
	if n := rooms.rdb.ZCard(ctx, Keys(saleID).Queue).Val(); n != 2 {
		t.Errorf("%d in the queue, want b and d", n)
	}
	if _, err := rooms.applyFlaggedPolicy(ctx, "s_nope", FlagPolicyBack); !errors.Is(err, ErrSaleNotFound) {
		t.Errorf("a policy for an unknown sale: %v, want ErrSaleNotFound", err)
	}
}

func TestUnderRemoveAFlaggedPrequeueShopperLeavesThePrequeueAndTheDraw(t *testing.T) {
	rooms, a, saleID := prequeueSale(t)
	ctx := context.Background()
	if err := rooms.rdb.HSet(ctx, Keys(saleID).Meta, "prequeue_at_ms", 0).Err(); err != nil {
		t.Fatal(err)
	}
	lead(t, a, saleID) // opens the prequeue
	join(t, rooms, saleID, "p1", "p2")
	if _, err := rooms.applyFlaggedPolicy(ctx, saleID, FlagPolicyRemove); err != nil {
		t.Fatal(err)
	}
	if out := flag(t, rooms, saleID, "p1", "192.0.2.1", SignalManyIdentities); out.Outcome != FlagRemoved {
		t.Fatalf("a prequeue shopper flagged under remove: %+v, want removed", out)
	}
	k := Keys(saleID)
	if n := rooms.rdb.ZCard(ctx, k.Pre).Val(); n != 1 {
		t.Errorf("%d in the prequeue, want p2 alone", n)
	}
	if n := rooms.rdb.ZCard(ctx, k.Presort).Val(); n != 1 {
		t.Errorf("%d in the draw, want p2 alone", n)
	}
}
