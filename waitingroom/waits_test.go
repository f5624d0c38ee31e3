package waitingroom

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// exactPercentile is the nearest-rank percentile of waits (sorted).
func exactPercentile(sorted []int64, q float64) float64 {
	rank := max(1, int(math.Ceil(q*float64(len(sorted)))))
	return float64(sorted[rank-1])
}

// The histogram admit.lua keeps must give each arrival minute's
// percentiles within the buckets' error of the exact ones: 300 shoppers
// arriving three at a time over about 75 minutes, let out in one batch.
func TestTheWaitHistogramGivesEachArrivalMinutesPercentilesWithinTheBucketError(t *testing.T) {
	const shoppers, perMark = 300, 3
	rdb, rooms, saleID := openSale(t, shoppers)
	joinMany(t, rdb, saleID, 0, shoppers)
	a := NewAdmitter(rdb, "n1", quietLog())
	a.MaxAdmitPerTick = shoppers
	fence := lead(t, a, saleID)
	ctx := context.Background()
	k := Keys(saleID)
	// The tick that opened the sale marked every ticket as arrived by then.
	if marks, err := rdb.ZRangeWithScores(ctx, k.Arrivals, 0, -1).Result(); err != nil || len(marks) != 1 || marks[0].Score != shoppers {
		t.Fatalf("arrival marks after the first tick: %v (err %v), want one at ticket %d", marks, err, shoppers)
	}
	// The known pattern instead: group g (tickets 3g-2..3g) arrived
	// (101-g)² × 450 ms before now, so waits run from 0.45 s to 75 min.
	now, err := rdb.Time(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	arrivedAt := map[int64]int64{} // ticket -> unix ms
	marks := []redis.Z{}
	for g := int64(1); g <= shoppers/perMark; g++ {
		at := now.UnixMilli() - (101-g)*(101-g)*450
		marks = append(marks, redis.Z{Score: float64(g * perMark), Member: strconv.FormatInt(at, 10)})
		for ticket := g*perMark - perMark + 1; ticket <= g*perMark; ticket++ {
			arrivedAt[ticket] = at
		}
	}
	if err := rdb.Del(ctx, k.Arrivals).Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.ZAdd(ctx, k.Arrivals, marks...).Err(); err != nil {
		t.Fatal(err)
	}
	admitted, err := a.Admit(ctx, saleID, fence, shoppers)
	if err != nil || len(admitted) != shoppers {
		t.Fatalf("admitted %d (err %v), want %d", len(admitted), err, shoppers)
	}
	exact := map[int64][]int64{} // arrival minute -> waits
	for _, r := range admitted {
		at := arrivedAt[r.Ticket]
		exact[at/60000] = append(exact[at/60000], r.AdmittedAtMs-at)
	}
	h, err := rooms.History(ctx, saleID)
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Waits) != len(exact) {
		t.Fatalf("%d arrival minutes in the histogram, want %d", len(h.Waits), len(exact))
	}
	bucketError := math.Exp2(1.0/(2*WaitBucketsPerDoubling)) - 1 // 4.4 %
	for _, m := range h.Waits {
		waits := exact[m.Minute]
		slices.Sort(waits)
		if m.Shoppers() != int64(len(waits)) || m.MaxMs != waits[len(waits)-1] {
			t.Errorf("minute %d: %d shoppers, longest %d ms; want %d, %d ms", m.Minute, m.Shoppers(), m.MaxMs, len(waits), waits[len(waits)-1])
		}
		for _, q := range []float64{0.5, 0.9, 0.99} {
			got, want := m.Percentile(q), exactPercentile(waits, q)
			if math.Abs(got-want) > want*bucketError+1 {
				t.Errorf("minute %d p%g: %.0f ms, exact %.0f ms: off by more than %.1f %%", m.Minute, q*100, got, want, bucketError*100)
			}
		}
	}
	// The marks below the batch are gone: no ticket left needs them.
	if n, err := rdb.ZCard(ctx, k.Arrivals).Result(); err != nil || n != 1 {
		t.Errorf("%d arrival marks left after every ticket was let out (err %v), want the last one", n, err)
	}
}

// Lapsed holds are counted apart from those of shoppers away too long.
func TestTheTickCountsTheHoldsItReleasesByWhy(t *testing.T) {
	rdb, rooms, saleID := openSale(t, 10)
	joinMany(t, rdb, saleID, 0, 4)
	a := NewAdmitter(rdb, "n1", quietLog())
	fence := lead(t, a, saleID)
	ctx := context.Background()
	if _, err := a.Admit(ctx, saleID, fence, 4); err != nil {
		t.Fatal(err)
	}
	// Every batch lapses now: the tick releases all four as lapsed.
	k := Keys(saleID)
	nonces, err := rdb.ZRange(ctx, k.Holds, 0, -1).Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range nonces {
		if err := rdb.ZAdd(ctx, k.Holds, redis.Z{Score: 1, Member: n}).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.runSale(ctx, saleID, a.sales[saleID], time.Now()); err != nil {
		t.Fatal(err)
	}
	h, err := rooms.History(ctx, saleID)
	if err != nil {
		t.Fatal(err)
	}
	if h.HoldsLapsed != 4 || h.HoldsAway != 0 {
		t.Fatalf("lapsed %d, away %d; want 4 lapsed", h.HoldsLapsed, h.HoldsAway)
	}
}

// The prequeue's shoppers all arrive at the opening: the tick that opens
// the sale marks their tickets then, whenever they joined the prequeue,
// and their waits are counted from it.
func TestThePrequeuesShoppersWaitFromTheOpening(t *testing.T) {
	rooms, a, saleID := prequeueSale(t)
	ctx := context.Background()
	for i := range 5 {
		if _, err := rooms.Join(ctx, saleID, fmt.Sprintf("early-%d", i), "t"); err != nil {
			t.Fatal(err)
		}
	}
	start(t, rooms, a, saleID) // opens, draws the five and marks them
	k := Keys(saleID)
	marks, err := rooms.rdb.ZRangeWithScores(ctx, k.Arrivals, 0, -1).Result()
	if err != nil || len(marks) != 1 || marks[0].Score != 5 {
		t.Fatalf("arrival marks after the opening: %v (err %v), want one at ticket 5", marks, err)
	}
	opened, _ := strconv.ParseInt(marks[0].Member.(string), 10, 64)
	fence := a.sales[saleID].fence
	admitted, err := a.Admit(ctx, saleID, fence, 5)
	if err != nil || len(admitted) != 5 {
		t.Fatalf("admitted %d (err %v), want 5", len(admitted), err)
	}
	h, err := rooms.History(ctx, saleID)
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Waits) != 1 || h.Waits[0].Minute != opened/60000 || h.Waits[0].Shoppers() != 5 ||
		h.Waits[0].MaxMs != admitted[0].AdmittedAtMs-opened {
		t.Errorf("waits %+v, want five shoppers of the opening's minute %d, the longest %d ms",
			h.Waits, opened/60000, admitted[0].AdmittedAtMs-opened)
	}
}
