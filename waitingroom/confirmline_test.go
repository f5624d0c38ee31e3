package waitingroom

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// heldFirst is a hook that holds a client's first round trip until let
// go, and counts the round trips: the test fills the line meanwhile.
type heldFirst struct {
	roundTrips
	once    sync.Once
	holding chan struct{} // closed once the first round trip is held
	letGo   chan struct{}
}

func newHeldFirst() *heldFirst {
	return &heldFirst{holding: make(chan struct{}), letGo: make(chan struct{})}
}

func (h *heldFirst) hold() {
	h.once.Do(func() {
		close(h.holding)
		<-h.letGo
	})
}

func (h *heldFirst) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	counted := h.roundTrips.ProcessHook(next)
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.hold()
		return counted(ctx, cmd)
	}
}

func (h *heldFirst) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	counted := h.roundTrips.ProcessPipelineHook(next)
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.hold()
		return counted(ctx, cmds)
	}
}

// lineOf waits until the sale's line of confirmations holds n calls waiting
// behind the one on its way.
func lineOf(t *testing.T, rooms *Rooms, saleID string, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); rooms.confirms.Waiting(saleID) != n; {
		if time.Now().After(deadline) {
			t.Fatalf("%d confirmations waiting in the line, want %d", rooms.confirms.Waiting(saleID), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// confirmAll confirms each of ids for its shopper at once, the first alone
// until it holds the line (hook), and returns each one's answer.
func confirmAll(t *testing.T, rooms *Rooms, hook *heldFirst, saleID string, shoppers, ids []string, ctxs []context.Context) ([]Confirmation, []error) {
	t.Helper()
	got, errs := make([]Confirmation, len(ids)), make([]error, len(ids))
	var wg sync.WaitGroup
	start := func(i int) {
		wg.Go(func() { got[i], errs[i] = rooms.Confirm(ctxs[i], saleID, shoppers[i], ids[i], 1, "") })
	}
	start(0)
	<-hook.holding
	for i := 1; i < len(ids); i++ {
		start(i)
	}
	lineOf(t, rooms, saleID, len(ids)-1)
	close(hook.letGo)
	wg.Wait()
	return got, errs
}

// TestConfirmationsAskedTogetherGoInOneRoundTripEachWithItsOwnAnswer sends
// 30 confirmations of a sale while one is on its way: 20 of held
// reservations, 5 of reservations the sale never held, and 5 whose callers
// gave up (their contexts ended) before their turn. They go in one
// pipeline after the first, 2 round trips in all (31 before: one each),
// and each caller hears its own answer: its confirmation, unknown, or its
// context's end, which changed nothing.
func TestConfirmationsAskedTogetherGoInOneRoundTripEachWithItsOwnAnswer(t *testing.T) {
	rdb, rooms, saleID := openSale(t, 21)
	_, _, held := admitted(t, rdb, rooms, saleID, 21)
	client := redis.NewClient(rdb.Options())
	t.Cleanup(func() { client.Close() })
	hook := newHeldFirst()
	client.AddHook(hook)
	counted := NewRooms(client)
	// Redis knows the script already: the first round trip is its own.
	if err := confirmScript.Load(t.Context(), rdb).Err(); err != nil {
		t.Fatal(err)
	}

	var shoppers, ids []string
	var ctxs []context.Context
	for _, r := range held[:21] {
		shoppers, ids, ctxs = append(shoppers, r.Shopper), append(ids, r.ID), append(ctxs, t.Context())
	}
	for i := range 5 {
		shoppers, ids, ctxs = append(shoppers, held[i].Shopper), append(ids, fmt.Sprintf("r_nonce_99%d", i)), append(ctxs, t.Context())
	}
	gaveUp, cancel := context.WithCancel(t.Context())
	cancel()
	// The last 5 held reservations' callers give up: their units stay held.
	for i := 16; i < 21; i++ {
		ctxs[i] = gaveUp
	}

	got, errs := confirmAll(t, counted, hook, saleID, shoppers, ids, ctxs)
	for i := range ids {
		switch {
		case i >= 21:
			if !errors.Is(errs[i], ErrReservationUnknown) {
				t.Errorf("confirm of %s, never held: %v, want ErrReservationUnknown", ids[i], errs[i])
			}
		case i >= 16:
			if !errors.Is(errs[i], context.Canceled) {
				t.Errorf("confirm of %s, its caller gone: %v, want its context's end", ids[i], errs[i])
			}
		default:
			if errs[i] != nil || got[i].Reservation != ids[i] || got[i].Shopper != shoppers[i] {
				t.Errorf("confirm of %s for %s: %+v (%v), want its own confirmation", ids[i], shoppers[i], got[i], errs[i])
			}
		}
	}
	if n := hook.n.Load(); n != 2 {
		t.Errorf("%d round trips for 31 confirmations asked together, want 2: the first, then the rest in one", n)
	}
	st, err := rooms.Status(t.Context(), saleID)
	if err != nil {
		t.Fatal(err)
	}
	if st.Sold != 16 || st.Held != 5 {
		t.Errorf("sold %d and held %d after 16 confirmations, want 16 and 5: the ones given up changed nothing", st.Sold, st.Held)
	}
	// A caller that gave up may ask again: its hold is still its own.
	if c, err := rooms.Confirm(t.Context(), saleID, shoppers[16], ids[16], 1, ""); err != nil || c.Replayed {
		t.Errorf("confirm again of a confirmation given up: %+v (%v), want it confirmed now", c, err)
	}
}

// TestABatchRedisLostTheScriptOfIsSentAgainWhole confirms 8 reservations
// in one pipeline after Redis forgot its scripts (a restart, a failover),
// on a plain client and on a Replicated one (its WAIT after them): every
// one is answered NOSCRIPT, did not run, and goes again whole in one more
// round trip, confirmed once.
func TestABatchRedisLostTheScriptOfIsSentAgainWhole(t *testing.T) {
	for _, replicated := range []bool{false, true} {
		t.Run(fmt.Sprint("replicated=", replicated), func(t *testing.T) {
			rdb, rooms, saleID := openSale(t, 8)
			_, _, held := admitted(t, rdb, rooms, saleID, 8)
			client, trips := countedClient(t, rdb)
			var durable redis.UniversalClient = client
			if replicated {
				// WAIT 0 answers at once: the batch's one WAIT is what is tried.
				durable = &Replicated{UniversalClient: client, Timeout: time.Second}
			}
			if err := rdb.ScriptFlush(t.Context()).Err(); err != nil {
				t.Fatal(err)
			}
			k := Keys(saleID)
			var argLists [][]any
			for _, r := range held {
				argLists = append(argLists, []any{r.ID, r.Shopper, EventsMaxLen, 1, "", "", ""})
			}
			ran, err := runDurable(t.Context(), durable, confirmScript,
				[]string{k.Meta, k.Res, k.Batches, k.Outbox, k.Events, k.Shoppers, k.Journeys, k.Bought, k.Customers}, argLists)
			if err != nil {
				t.Fatal(err)
			}
			for i, cmd := range ran {
				if cmd.Err() != nil || !strings.Contains(cmd.Val().(string), held[i].ID) {
					t.Errorf("confirmation %d: %v (%v), want %s confirmed", i, cmd.Val(), cmd.Err(), held[i].ID)
				}
			}
			if n := trips.n.Load(); n != 2 {
				t.Errorf("%d round trips, want 2: by SHA, then whole", n)
			}
			if st, err := rooms.Status(t.Context(), saleID); err != nil || st.Sold != 8 || st.Held != 0 {
				t.Errorf("sold %d, held %d (%v), want 8 and 0", st.Sold, st.Held, err)
			}
		})
	}
}
