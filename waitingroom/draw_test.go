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

	"github.com/foyerhq/foyer/internal/salekeys"
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
	if err := rooms.rdb.HSet(ctx, salekeys.For(saleID).Meta, "starts_at_ms", time.Now().UnixMilli()).Err(); err != nil {
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
	var shoppers []string
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
		shoppers = append(shoppers, s)
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
	if n, _ := rdb.ZCard(context.Background(), salekeys.For(p.ID).Pre).Result(); n != 0 {
		t.Errorf("a refused join left %d in the prequeue", n)
	}
}
