package webhooks_test

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/foyerhq/foyer/internal/webhooks"
)

// logged is a slog handler that hands on every message logged, so a test
// can await what the dispatcher tells nobody else.
type logged chan string

func (l logged) Enabled(context.Context, slog.Level) bool { return true }
func (l logged) Handle(_ context.Context, r slog.Record) error {
	select {
	case l <- r.Message:
	default: // a test awaits one message; the rest may go
	}
	return nil
}
func (l logged) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l logged) WithGroup(string) slog.Handler      { return l }

// await waits for a message containing part.
func (l logged) await(t *testing.T, part string) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case m := <-l:
			if strings.Contains(m, part) {
				return
			}
		case <-deadline:
			t.Fatalf("nothing logged with %q after 10s", part)
		}
	}
}

// runLoggedDispatcher runs a dispatcher logging to log until the test
// ends; stop stops it and waits until Run returned.
func runLoggedDispatcher(t *testing.T, db *sqlx.DB, cfg webhooks.Config, log *slog.Logger) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	d := webhooks.NewDispatcher(db, cfg, log)
	done := make(chan struct{})
	go func() {
		defer close(done)
		d.Run(ctx)
	}()
	stop = func() { cancel(); <-done }
	t.Cleanup(stop)
	return stop
}

// A lane whose lease ended, and was taken over, while an answer was on
// its way, does not record it: the new holder may already have claimed
// the delivery, still pending, and would claim the next of its order too,
// once this one was marked delivered. The outcome is dropped; the delivery
// is sent again once the lane is held again (at least once), and the
// order's events still come one at a time, in order.
func TestALateRecordOfALaneWhoseLeaseWasTakenOverIsDroppedAndItsDeliverySentAgain(t *testing.T) {
	db := newDB(t)
	s, rec := newStore(db), webhooks.NewRecorder()
	k := &keyedEndpoint{release: make(chan struct{}), held: make(chan struct{}), inFlight: map[string]int{},
		most: map[string]int{}, types: map[string][]string{}, answers: make(chan struct{}, 1000)}
	srv := httptest.NewServer(k)
	t.Cleanup(srv.Close)
	released := false
	t.Cleanup(func() {
		if !released {
			close(k.release)
		}
	})
	if _, err := s.Create(t.Context(), webhooks.NewEndpoint{URL: srv.URL + "/hooks", Events: webhooks.EventTypes}, "test"); err != nil {
		t.Fatal(err)
	}
	writeOrders(t, db, rec, 1, 1, "paid") // created, redeemed, paid: one ordering key
	if err := db.Get(&k.hold, `SELECT id FROM webhook_events ORDER BY seq LIMIT 1`); err != nil {
		t.Fatal(err)
	}
	log := make(logged, 100)
	runLoggedDispatcher(t, db, fast, slog.New(log))

	<-k.held
	// Meanwhile the lease ended in the database and another dispatcher
	// took the lane over.
	if _, err := db.Exec(`UPDATE webhook_lanes SET owner = 'another dispatcher', leased_until = now() + interval '1 hour'`); err != nil {
		t.Fatal(err)
	}
	close(k.release)
	released = true
	log.await(t, "lease ended before its outcomes were recorded")
	if n := count(t, db, `SELECT count(*) FROM webhook_deliveries WHERE status = 'pending' AND attempts = 0`); n != 3 {
		t.Fatalf("%d of 3 deliveries pending and unattempted after the late record, want 3: it was recorded", n)
	}

	// The other dispatcher dies; this one takes the lane back.
	if _, err := db.Exec(`UPDATE webhook_lanes SET leased_until = now() - interval '1 second'`); err != nil {
		t.Fatal(err)
	}
	k.awaitAnswered(t, 4)
	eventually(t, 10*time.Second, func() (bool, string) {
		n := count(t, db, `SELECT count(*) FROM webhook_deliveries WHERE status = 'delivered'`)
		return n == 3, "delivered: " + strconv.Itoa(n)
	})
	k.mu.Lock()
	defer k.mu.Unlock()
	want := []string{webhooks.OrderCreated, webhooks.OrderCreated, webhooks.ReservationRedeemed, webhooks.OrderPaid}
	if got := k.types["r_001"]; !slices.Equal(got, want) {
		t.Errorf("the order's events came as %v, want %v", got, want)
	}
	if k.most["r_001"] != 1 {
		t.Errorf("%d of the order's deliveries in flight at once", k.most["r_001"])
	}
}

// refuseRecords makes Postgres refuse every update of the deliveries in
// table refuse_record, counting the refusals in sequence record_refusals.
func refuseRecords(t *testing.T, db *sqlx.DB) {
	t.Helper()
	for _, q := range []string{
		`CREATE SEQUENCE record_refusals`,
		`CREATE TABLE refuse_record (delivery_id bigint PRIMARY KEY)`,
		`CREATE FUNCTION refuse_record() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF EXISTS (SELECT 1 FROM refuse_record WHERE delivery_id = NEW.id) THEN
				PERFORM nextval('record_refusals');
				RAISE EXCEPTION 'the test refuses to record delivery %', NEW.id;
			END IF;
			RETURN NEW;
		END $$`,
		`CREATE TRIGGER refuse_record BEFORE UPDATE ON webhook_deliveries FOR EACH ROW EXECUTE FUNCTION refuse_record()`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
}

func refusals(t *testing.T, db *sqlx.DB) int {
	return count(t, db, `SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM record_refusals`)
}

// An outcome the database will not record stays held, and is recorded
// once it can be, never sent again meanwhile; it does not keep the others
// recorded with it unrecorded (each is tried alone after a few tries of
// the whole). The lane claims nothing more until it is recorded; then the
// deliveries that came meanwhile go.
func TestAnOutcomeTheDatabaseRefusesIsRecordedLaterAndNotSentAgain(t *testing.T) {
	db := newDB(t)
	s, rec := newStore(db), webhooks.NewRecorder()
	r := newReceiver(t, nil)
	register(t, s, r)
	refuseRecords(t, db)
	ids := writeOrders(t, db, rec, 1, 4, "pending_payment")
	if _, err := db.Exec(`INSERT INTO refuse_record SELECT min(id) FROM webhook_deliveries`); err != nil {
		t.Fatal(err)
	}
	runDispatcher(t, db, fast)

	r.awaitAccepted(t, 4)
	eventually(t, 10*time.Second, func() (bool, string) {
		n, f := count(t, db, `SELECT count(*) FROM webhook_deliveries WHERE status = 'delivered'`), refusals(t, db)
		return n == 3 && f >= 6, "delivered: " + strconv.Itoa(n) + ", refusals: " + strconv.Itoa(f)
	})
	settle(t, db, rec, ids, "paid")
	if _, err := db.Exec(`DELETE FROM refuse_record`); err != nil {
		t.Fatal(err)
	}
	r.awaitAccepted(t, 8)
	eventually(t, 10*time.Second, func() (bool, string) {
		n := count(t, db, `SELECT count(*) FROM webhook_deliveries WHERE status = 'delivered' AND attempts = 1`)
		return n == 8, "delivered at the first attempt: " + strconv.Itoa(n)
	})
	if n := len(r.all()); n != 8 {
		t.Errorf("the endpoint got %d requests, want 8: one per delivery", n)
	}
	assertOncePerEventInOrder(t, r, 8)
}

// While records fail, a failing endpoint is not hit again and again: each
// delivery is sent once, and its failure counted once the record passes,
// its next attempt after its retry delay.
func TestWhileRecordsFailAFailingEndpointGetsEachDeliveryOnce(t *testing.T) {
	db := newDB(t)
	s, rec := newStore(db), webhooks.NewRecorder()
	r := newReceiver(t, func(int, webhooks.Event) int { return http.StatusInternalServerError })
	register(t, s, r)
	refuseRecords(t, db)
	writeOrders(t, db, rec, 1, 3, "pending_payment")
	if _, err := db.Exec(`INSERT INTO refuse_record SELECT id FROM webhook_deliveries`); err != nil {
		t.Fatal(err)
	}
	runDispatcher(t, db, fast)

	eventually(t, 10*time.Second, func() (bool, string) {
		f := refusals(t, db)
		return f >= 8, "refusals: " + strconv.Itoa(f)
	})
	if n := len(r.all()); n != 3 {
		t.Fatalf("the endpoint got %d requests while the records failed, want 3: one per delivery", n)
	}
	if _, err := db.Exec(`DELETE FROM refuse_record`); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, func() (bool, string) {
		n := count(t, db, `SELECT count(*) FROM webhook_deliveries WHERE attempts >= 1 AND first_attempt_at IS NOT NULL`)
		return n == 3, "recorded: " + strconv.Itoa(n)
	})
}

// A delivery's retry window starts at its first attempt: one that waited
// longer than MaxAge behind an earlier one of its order is not dead at its
// first failure, but retried.
func TestADeliveryThatWaitedLongerThanMaxAgeIsRetriedAfterItsFirstFailure(t *testing.T) {
	db := newDB(t)
	s, rec := newStore(db), webhooks.NewRecorder()
	failed := map[string]bool{}
	r := newReceiver(t, func(_ int, e webhooks.Event) int { // each event fails once
		if !failed[e.ID] {
			failed[e.ID] = true
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	})
	register(t, s, r)
	ids := writeOrders(t, db, rec, 1, 1, "pending_payment")
	settle(t, db, rec, ids, "paid")
	if _, err := db.Exec(`UPDATE webhook_deliveries SET created_at = now() - 2 * $1::interval`,
		fast.MaxAge.String()); err != nil {
		t.Fatal(err)
	}
	runDispatcher(t, db, fast)

	r.awaitAccepted(t, 2)
	eventually(t, 10*time.Second, func() (bool, string) {
		n := count(t, db, `SELECT count(*) FROM webhook_deliveries WHERE status = 'delivered' AND attempts = 2
			AND first_attempt_at > created_at`)
		return n == 2, "delivered at the second attempt: " + strconv.Itoa(n)
	})
	if n := count(t, db, `SELECT count(*) FROM webhook_deliveries WHERE status = 'dead'`); n != 0 {
		t.Errorf("%d deliveries dead", n)
	}
}

// A lane renews its lease on its own ticker, however long Poll is: an
// answer that takes longer than the lease has left past its renewal point
// is recorded under a renewed lease.
func TestALaneRenewsItsLeaseWhilePollIsLongerThanTheLease(t *testing.T) {
	db := newDB(t)
	s, rec := newStore(db), webhooks.NewRecorder()
	k := &keyedEndpoint{release: make(chan struct{}), held: make(chan struct{}), inFlight: map[string]int{},
		most: map[string]int{}, types: map[string][]string{}, answers: make(chan struct{}, 1000)}
	srv := httptest.NewServer(k)
	t.Cleanup(srv.Close)
	released := false
	t.Cleanup(func() {
		if !released {
			close(k.release)
		}
	})
	if _, err := s.Create(t.Context(), webhooks.NewEndpoint{URL: srv.URL + "/hooks", Events: webhooks.EventTypes}, "test"); err != nil {
		t.Fatal(err)
	}
	writeOrders(t, db, rec, 1, 1, "pending_payment")
	if err := db.Get(&k.hold, `SELECT id FROM webhook_events ORDER BY seq LIMIT 1`); err != nil {
		t.Fatal(err)
	}
	cfg := fast
	cfg.Poll, cfg.Timeout = time.Hour, 4*time.Second
	// A 5s lease, renewed once less than 4.5s is left: 0.5s after it was
	// taken, while the held attempt is still within its Timeout.
	runDispatcher(t, db, webhooks.WithLease(cfg, 5*time.Second, 500*time.Millisecond))

	<-k.held
	var first time.Time
	if err := db.Get(&first, `SELECT leased_until FROM webhook_lanes`); err != nil {
		t.Fatal(err)
	}
	eventually(t, 3*time.Second, func() (bool, string) {
		var now time.Time
		if err := db.Get(&now, `SELECT leased_until FROM webhook_lanes`); err != nil {
			t.Fatal(err)
		}
		return now.After(first), "leased until " + now.String() + ", as first taken"
	})
	close(k.release)
	released = true
	eventually(t, 10*time.Second, func() (bool, string) {
		n := count(t, db, `SELECT count(*) FROM webhook_deliveries WHERE status = 'delivered'`)
		return n == 1, "delivered: " + strconv.Itoa(n)
	})
}

// A dispatcher that stops closes the connections it kept open to the
// endpoints.
func TestAStoppedDispatcherClosesItsIdleConnections(t *testing.T) {
	db := newDB(t)
	s, rec := newStore(db), webhooks.NewRecorder()
	closed := make(chan struct{}, 100)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
	}))
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateClosed {
			closed <- struct{}{}
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	if _, err := s.Create(t.Context(), webhooks.NewEndpoint{URL: srv.URL + "/hooks", Events: webhooks.EventTypes}, "test"); err != nil {
		t.Fatal(err)
	}
	writeOrders(t, db, rec, 1, 1, "pending_payment")
	stop := runLoggedDispatcher(t, db, fast, discard)
	eventually(t, 10*time.Second, func() (bool, string) {
		n := count(t, db, `SELECT count(*) FROM webhook_deliveries WHERE status = 'delivered'`)
		return n == 1, "delivered: " + strconv.Itoa(n)
	})
	stop()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("the endpoint's connection still open 10s after the dispatcher stopped")
	}
}
