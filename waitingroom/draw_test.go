package waitingroom

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"
)

// TestEveryPrequeuePlaceIsEquallyLikely draws ten prequeue tickets with
// 5,000 fixed seeds and checks, for each ticket, that the places it lands in
// fit the uniform distribution: Pearson's chi-square with 9 degrees of
// freedom under 27.88, the 0.1% critical value. The seeds are fixed, so the
// test is deterministic; a biased draw fails it.
func TestEveryPrequeuePlaceIsEquallyLikely(t *testing.T) {
	const tickets, draws, critical = 10, 5000, 27.88
	all := make([]int64, tickets)
	for i := range all {
		all[i] = int64(i + 1)
	}
	var counts [tickets][tickets]int // counts[ticket][place]
	for s := range draws {
		for place, ticket := range DrawOrder(fmt.Sprintf("seed-%d", s), all) {
			counts[ticket-1][place]++
		}
	}
	expected := float64(draws) / tickets
	for ticket := range counts {
		chi := 0.0
		for _, observed := range counts[ticket] {
			d := float64(observed) - expected
			chi += d * d / expected
		}
		if chi > critical {
			t.Errorf("ticket %d lands in places %v: chi-square %.1f > %.2f", ticket+1, counts[ticket], chi, critical)
		}
	}
}

func TestTheDrawIsAPermutationThatOnlyTheSeedDecides(t *testing.T) {
	tickets := []int64{4, 9, 1, 7, 3}
	a, b := DrawOrder("alpha", tickets), DrawOrder("alpha", slices.Clone(tickets))
	if !slices.Equal(a, b) {
		t.Errorf("the same seed drew %v and %v", a, b)
	}
	sorted := slices.Sorted(slices.Values(a))
	if !slices.Equal(sorted, []int64{1, 3, 4, 7, 9}) {
		t.Errorf("draw %v is not a permutation of the tickets", a)
	}
	if slices.Equal(a, DrawOrder("beta", tickets)) && slices.Equal(a, DrawOrder("gamma", tickets)) {
		t.Errorf("three seeds drew the same order %v", a)
	}
}

// prequeueSale loads a sale whose prequeue is open and whose start is later.
func prequeueSale(t *testing.T) (*Rooms, *Admitter, string) {
	t.Helper()
	rdb, rooms, _ := openSale(t, 100)
	p := validPlan()
	p.ID = "s_draw"
	p.StartsAt, p.EndsAt, p.PrequeueSeconds = time.Now().Add(time.Hour), time.Now().Add(2*time.Hour), 7200
	if err := rooms.Load(context.Background(), &p); err != nil {
		t.Fatal(err)
	}
	return rooms, NewAdmitter(rdb, "node-a", quietLog()), p.ID
}

// start moves the sale's start to now and runs the admitter's tick.
func start(t *testing.T, rooms *Rooms, a *Admitter, saleID string) {
	t.Helper()
	ctx := context.Background()
	if err := rooms.rdb.HSet(ctx, Keys(saleID).Meta, "starts_at_ms", time.Now().UnixMilli()).Err(); err != nil {
		t.Fatal(err)
	}
	lead(t, a, saleID)
}

func TestThePrequeueIsDrawnInTheOrderTheRevealedSeedGives(t *testing.T) {
	rooms, a, saleID := prequeueSale(t)
	ctx := context.Background()
	before, err := rooms.Draw(ctx, saleID)
	if err != nil {
		t.Fatal(err)
	}
	if before.SeedHash == "" || before.Seed != "" || before.Tickets != nil {
		t.Fatalf("before the start the draw tells %+v: want the hash only", before)
	}
	byTicket := map[int64]string{}
	for i := range 40 {
		s := fmt.Sprintf("early-%02d", i)
		place, err := rooms.Join(ctx, saleID, s, "t")
		if err != nil {
			t.Fatal(err)
		}
		if place.Prequeue != int64(i+1) || place.Ticket != 0 {
			t.Fatalf("prequeue join %d got %+v", i, place)
		}
		byTicket[place.Prequeue] = s
	}
	if _, err := rooms.Leave(ctx, saleID, "early-07"); err != nil { // leaves before the draw
		t.Fatal(err)
	}
	delete(byTicket, 8)

	start(t, rooms, a, saleID)
	late, err := rooms.Join(ctx, saleID, "late", "t")
	if err != nil {
		t.Fatal(err)
	}
	after, err := rooms.Draw(ctx, saleID)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(after.Seed))
	if hex.EncodeToString(sum[:]) != before.SeedHash {
		t.Fatalf("the revealed seed does not hash to the commitment %s", before.SeedHash)
	}
	var remaining []int64
	for ticket := range byTicket {
		remaining = append(remaining, ticket)
	}
	want := DrawOrder(after.Seed, remaining)
	if !slices.Equal(after.Tickets, want) {
		t.Fatalf("published order %v, recomputed %v", after.Tickets, want)
	}
	for place, ticket := range want {
		got, ok, err := rooms.Find(ctx, saleID, byTicket[ticket])
		if err != nil || !ok || got.Position != int64(place+1) || got.Ticket != int64(place+1) {
			t.Errorf("prequeue ticket %d: %+v (found %v, %v), want place %d", ticket, got, ok, err, place+1)
		}
	}
	if late.Ticket != int64(len(want)+1) {
		t.Errorf("a shopper joining after the start got ticket %d, want %d: behind the whole prequeue", late.Ticket, len(want)+1)
	}
}

func TestJoiningBeforeThePrequeueOpensIsTooEarly(t *testing.T) {
	rdb, rooms, _ := openSale(t, 10)
	p := validPlan()
	p.ID = "s_early"
	p.StartsAt, p.EndsAt, p.PrequeueSeconds = time.Now().Add(time.Hour), time.Now().Add(2*time.Hour), 60
	if err := rooms.Load(context.Background(), &p); err != nil {
		t.Fatal(err)
	}
	_, err := rooms.Join(context.Background(), p.ID, "eager", "t")
	if !errors.Is(err, ErrTooEarly) {
		t.Errorf("join before the prequeue: %v, want ErrTooEarly", err)
	}
	if n, _ := rdb.ZCard(context.Background(), Keys(p.ID).Pre).Result(); n != 0 {
		t.Errorf("a refused join left %d in the prequeue", n)
	}
}

// TestALargePrequeueIsDrawnInChunksAndPositionsStayExact draws 40 prequeue
// shoppers ten per tick. While the draw runs nobody is admitted, a late
// joiner already stands behind all 40, and shoppers who leave mid-draw leave
// a gap that everyone's position accounts for.
func TestALargePrequeueIsDrawnInChunksAndPositionsStayExact(t *testing.T) {
	rooms, a, saleID := prequeueSale(t)
	ctx := context.Background()
	a.DrawChunk = 10
	for i := range 40 {
		if _, err := rooms.Join(ctx, saleID, fmt.Sprintf("early-%02d", i), "t"); err != nil {
			t.Fatal(err)
		}
	}
	start(t, rooms, a, saleID) // opens the sale and draws the first ten
	st, err := rooms.Status(ctx, saleID)
	if err != nil || !st.Drawing {
		t.Fatalf("after one tick: %+v (%v), want the draw still running", st, err)
	}
	if got, err := a.Admit(ctx, saleID, a.sales[saleID].fence, 5); err != nil || len(got) != 0 {
		t.Fatalf("admitted %d (%v) while the draw runs, want none", len(got), err)
	}
	late, err := rooms.Join(ctx, saleID, "late", "t")
	if err != nil || late.Ticket != 41 || late.Position != 41 {
		t.Fatalf("a joiner during the draw got %+v (%v), want ticket and position 41", late, err)
	}
	draw, _ := rooms.Draw(ctx, saleID)
	first := draw.Tickets[0] // drawn in the first chunk
	var undrawn int64
	all := make([]int64, 40)
	for i := range all {
		all[i] = int64(i + 1)
	}
	order := DrawOrder(draw.Seed, all)
	undrawn = order[30] // not drawn yet: place 31
	for _, p := range []int64{first, undrawn} {
		if ok, err := rooms.Leave(ctx, saleID, fmt.Sprintf("early-%02d", p-1)); err != nil || !ok {
			t.Fatalf("leave prequeue ticket %d: %v %v", p, ok, err)
		}
	}
	// Each tick runs at the time of the one before, so that the one finishing
	// the draw owes no admission (on a slow host the 100 ms that owe one at
	// 10/s can pass between ticks): every drawn shopper must still wait.
	for range 3 {
		s := a.sales[saleID]
		if err := a.runSale(ctx, saleID, s, s.last); err != nil {
			t.Fatal(err)
		}
	}
	if st, _ := rooms.Status(ctx, saleID); st.Drawing {
		t.Fatal("the draw has not finished after four ticks of ten")
	}
	draw, _ = rooms.Draw(ctx, saleID)
	if !slices.Equal(draw.Tickets, order) {
		t.Fatalf("published order %v, recomputed %v", draw.Tickets, order)
	}
	place := int64(0)
	for _, p := range order {
		if p == first || p == undrawn {
			continue
		}
		place++
		got, ok, err := rooms.Find(ctx, saleID, fmt.Sprintf("early-%02d", p-1))
		if err != nil || !ok || got.Position != place {
			t.Errorf("prequeue ticket %d: %+v (%v %v), want position %d", p, got, ok, err, place)
		}
	}
	if got, _, _ := rooms.Find(ctx, saleID, "late"); got.Position != 39 {
		t.Errorf("the late joiner is at %d, want 39: behind the 38 drawn shoppers still waiting", got.Position)
	}
}
