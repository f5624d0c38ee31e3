package webhooks_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/foyerhq/foyer/internal/webhooks"
)

// keyedEndpoint answers 200, holding the answer to one event until
// release closes, and keeps, per reservation (the ordering key), how many
// of its deliveries were ever in flight at once and the types it got.
type keyedEndpoint struct {
	hold    string // the event id whose answer waits for release
	release chan struct{}
	held    chan struct{} // closed when the held event's request came
	wasHeld bool

	mu       sync.Mutex
	inFlight map[string]int
	most     map[string]int
	types    map[string][]string
	answered int
	answers  chan struct{} // a value per answered request
}

func (k *keyedEndpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var e struct {
		ID   string `json:"id"`
		Type string `json:"type"`
		Data struct {
			ReservationID string `json:"reservation_id"`
		} `json:"data"`
	}
	_ = json.Unmarshal(body, &e)
	key := e.Data.ReservationID
	k.mu.Lock()
	k.inFlight[key]++
	k.most[key] = max(k.most[key], k.inFlight[key])
	k.types[key] = append(k.types[key], e.Type)
	hold := e.ID == k.hold && !k.wasHeld // only its first request: it may be sent again
	k.wasHeld = k.wasHeld || hold
	k.mu.Unlock()
	if hold {
		close(k.held)
		<-k.release
	}
	k.mu.Lock()
	k.inFlight[key]--
	k.answered++
	k.mu.Unlock()
	w.WriteHeader(http.StatusOK)
	k.answers <- struct{}{}
}

// awaitAnswered waits until n requests were answered.
func (k *keyedEndpoint) awaitAnswered(t *testing.T, n int) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		k.mu.Lock()
		got := k.answered
		k.mu.Unlock()
		if got >= n {
			return
		}
		select {
		case <-k.answers:
		case <-deadline:
			t.Fatalf("%d requests answered after 20s, want %d", got, n)
		}
	}
}

// A lane claims the next deliveries while others are still in flight, so
// one slow answer holds up only its own order: the other orders' events
// all arrive meanwhile. And however it pipelines, never two deliveries of
// one order are in flight at once, and each order's arrive in order.
func TestOneSlowAnswerHoldsUpOnlyItsOwnOrderAndNoOrderHasTwoInFlight(t *testing.T) {
	db := newDB(t)
	s, rec := newStore(db), webhooks.NewRecorder()
	k := &keyedEndpoint{release: make(chan struct{}), held: make(chan struct{}), inFlight: map[string]int{},
		most: map[string]int{}, types: map[string][]string{}, answers: make(chan struct{}, 1000)}
	srv := httptest.NewServer(k)
	t.Cleanup(srv.Close)
	released := false
	t.Cleanup(func() { // before the server closes: cleanups run last first
		if !released {
			close(k.release)
		}
	})
	if _, err := s.Create(t.Context(), webhooks.NewEndpoint{URL: srv.URL + "/hooks", Events: webhooks.EventTypes}, "test"); err != nil {
		t.Fatal(err)
	}
	// Order 1 is written paid: created, redeemed and paid, in that order,
	// the first of which is held. Then 40 orders of one event each.
	writeOrders(t, db, rec, 1, 1, "paid")
	var first string
	if err := db.Get(&first, `SELECT id FROM webhook_events ORDER BY seq LIMIT 1`); err != nil {
		t.Fatal(err)
	}
	k.hold = first
	writeOrders(t, db, rec, 2, 40, "pending_payment")
	cfg := fast
	cfg.InFlight = 4
	runDispatcher(t, db, cfg)

	<-k.held
	k.awaitAnswered(t, 40) // every other order's, while order 1's first is held
	k.mu.Lock()
	early := slices.Clone(k.types["r_001"])
	k.mu.Unlock()
	if want := []string{webhooks.OrderCreated}; !slices.Equal(early, want) {
		t.Errorf("order 1 had %v sent while its first was held, want %v", early, want)
	}
	close(k.release)
	released = true
	k.awaitAnswered(t, 43)

	k.mu.Lock()
	defer k.mu.Unlock()
	for key, n := range k.most {
		if n != 1 {
			t.Errorf("order %s had %d deliveries in flight at once", key, n)
		}
	}
	if want := []string{webhooks.OrderCreated, webhooks.ReservationRedeemed, webhooks.OrderPaid}; !slices.Equal(k.types["r_001"], want) {
		t.Errorf("order 1's events came as %v, want %v", k.types["r_001"], want)
	}
	if len(k.types) != 41 {
		t.Errorf("%d orders' events came, want 41", len(k.types))
	}
}

// An endpoint is worked by the dispatcher holding its lane's lease: while
// another holds it, nothing is sent; once that lease has ended (its
// dispatcher died), the endpoint is taken over and everything arrives.
func TestAnEndpointLeasedToAnotherDispatcherIsTakenOverOnlyOnceItsLeaseEnds(t *testing.T) {
	db := newDB(t)
	s, rec := newStore(db), webhooks.NewRecorder()
	r := newReceiver(t, nil)
	c := register(t, s, r)
	if _, err := db.Exec(`INSERT INTO webhook_lanes (endpoint_id, owner, leased_until)
		VALUES ($1, 'a dispatcher that died', now() + interval '1 hour')`, c.ID); err != nil {
		t.Fatal(err)
	}
	ids := writeOrders(t, db, rec, 1, 5, "pending_payment")
	settle(t, db, rec, ids, "paid")
	runDispatcher(t, db, fast)

	// Absence has no event to await: a lane looks every Poll, so give it
	// a few.
	time.Sleep(10 * fast.Poll)
	if n := len(r.all()); n != 0 {
		t.Fatalf("%d requests while another dispatcher held the endpoint", n)
	}
	if _, err := db.Exec(`UPDATE webhook_lanes SET leased_until = now() - interval '1 second'`); err != nil {
		t.Fatal(err)
	}
	r.awaitAccepted(t, 10)
	assertOncePerEventInOrder(t, r, 10)
}
