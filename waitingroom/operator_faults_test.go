package waitingroom

import (
	"bytes"
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq"
	"github.com/redis/go-redis/v9"

	"github.com/foyerhq/foyer/internal/testenv"
)

// The operator against real Postgres and Redis that fail on cue: a reply
// lost on its way back, a commit that outlives its context.

// lossyProxy stands between a client and Redis. Once armed, it forwards an
// EVALSHA to Redis (which runs it) and drops every reply on that connection
// from then on: a script whose outcome the client cannot know.
type lossyProxy struct {
	addr    string
	armed   atomic.Bool
	scripts chan struct{} // one per EVALSHA forwarded while armed

	mu    sync.Mutex
	conns []net.Conn
}

func newLossyProxy(t *testing.T, redisAddr string) *lossyProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &lossyProxy{addr: ln.Addr().String(), scripts: make(chan struct{}, 16)}
	t.Cleanup(func() {
		ln.Close()
		p.cut()
	})
	go func() {
		for {
			client, err := ln.Accept()
			if err != nil {
				return
			}
			server, err := net.Dial("tcp", redisAddr)
			if err != nil {
				client.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, client, server)
			p.mu.Unlock()
			var lost atomic.Bool
			go func() { // client to Redis
				buf := make([]byte, 64<<10)
				for {
					n, err := client.Read(buf)
					if n > 0 {
						if p.armed.Load() && bytes.Contains(bytes.ToLower(buf[:n]), []byte("evalsha")) {
							lost.Store(true) // before Redis can answer
							p.scripts <- struct{}{}
						}
						if _, err := server.Write(buf[:n]); err != nil {
							return
						}
					}
					if err != nil {
						server.Close()
						return
					}
				}
			}()
			go func() { // Redis to client
				buf := make([]byte, 64<<10)
				for {
					n, err := server.Read(buf)
					if n > 0 && !lost.Load() {
						if _, err := client.Write(buf[:n]); err != nil {
							return
						}
					}
					if err != nil {
						client.Close()
						return
					}
				}
			}()
		}
	}()
	return p
}

// cut closes every connection through the proxy.
func (p *lossyProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// faultyOperator is an operator over a fresh database and a fresh Redis,
// reached through a lossyProxy with the given read timeout.
type faultyOperator struct {
	*Operator
	db     *sqlx.DB
	redis  *redis.Client // direct, past the proxy
	proxy  *lossyProxy
	saleID string
}

func newFaultyOperator(t *testing.T, readTimeout time.Duration) *faultyOperator {
	t.Helper()
	db, err := sqlx.Open("postgres", testenv.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	srv := testenv.NewRedis(t)
	direct := testenv.RedisClient(t, srv)
	proxy := newLossyProxy(t, srv.Addr)
	viaProxy := redis.NewClient(&redis.Options{Addr: proxy.addr, ReadTimeout: readTimeout})
	t.Cleanup(func() { viaProxy.Close() })
	o := NewOperator(NewCatalog(db), NewRooms(viaProxy))
	p := validPlan()
	p.Stock = 5
	p.StartsAt, p.EndsAt = time.Now().Add(-time.Minute), time.Now().Add(time.Hour)
	created, err := o.Create(t.Context(), p, "test")
	if err != nil {
		t.Fatal(err)
	}
	// Known to Redis, so that no NOSCRIPT reply is what gets lost.
	if err := controlScript.Load(t.Context(), direct).Err(); err != nil {
		t.Fatal(err)
	}
	return &faultyOperator{Operator: o, db: db, redis: direct, proxy: proxy, saleID: created.ID}
}

func (f *faultyOperator) stocks(t *testing.T) (postgres, redisStock int) {
	t.Helper()
	if err := f.db.Get(&postgres, `SELECT stock FROM sales WHERE id = $1`, f.saleID); err != nil {
		t.Fatal(err)
	}
	redisStock, err := f.redis.HGet(t.Context(), Keys(f.saleID).Meta, "stock").Int()
	if err != nil {
		t.Fatal(err)
	}
	return postgres, redisStock
}

func TestStockAddedWhenRedisNeverAnswersIsInPostgresAndSentToRedisOnce(t *testing.T) {
	// go-redis retries a command whose reply timed out, up to 3 times by
	// default: each retry here reaches Redis, and its reply is lost too.
	f := newFaultyOperator(t, 200*time.Millisecond)
	f.proxy.armed.Store(true)
	_, err := f.Control(t.Context(), f.saleID, Control{Action: ActionAddStock, Value: 3, Actor: "ops"})
	if err == nil {
		t.Fatal("an add_stock whose reply was lost succeeded")
	}
	if sent := len(f.proxy.scripts); sent != 1 {
		t.Errorf("the control script was sent %d times, want once", sent)
	}
	pg, rs := f.stocks(t)
	if rs != 8 {
		t.Errorf("redis stock %d after adding 3 to 5 once", rs)
	}
	if pg < rs {
		t.Errorf("postgres stock %d is below redis stock %d: shoppers Redis lets in would have their orders refused", pg, rs)
	}
	var outcome string
	if err := f.db.Get(&outcome, `SELECT coalesce(detail->>'outcome', '') FROM admin_actions
		WHERE sale_id = $1 AND action = 'add_stock'`, f.saleID); err != nil {
		t.Fatalf("the audit row of the add_stock: %v", err)
	}
	if outcome != "unknown" {
		t.Errorf("the audit row's outcome is %q, want unknown", outcome)
	}
}

func TestARefusedAddStockStillLeavesPostgresUnchanged(t *testing.T) {
	f := newFaultyOperator(t, time.Second)
	if _, err := f.Control(t.Context(), f.saleID, Control{Action: ActionStop, Actor: "ops"}); err != nil {
		t.Fatal(err)
	}
	_, err := f.Control(t.Context(), f.saleID, Control{Action: ActionAddStock, Value: 3, Actor: "ops"})
	if !errors.Is(err, ErrSaleEnded) {
		t.Fatalf("stock added to a stopped sale: %v, want ErrSaleEnded", err)
	}
	if pg, rs := f.stocks(t); pg != 5 || rs != 5 {
		t.Errorf("a refused add_stock changed stock: postgres %d, redis %d, want 5 and 5", pg, rs)
	}
}

// failFirstCommitSlowly makes the first commit that carries a new audit row
// take longer than the operator's recordTimeout, then fail: a commit whose
// context has run out by the time it reports.
func failFirstCommitSlowly(t *testing.T, db *sqlx.DB, o *Operator) {
	t.Helper()
	o.recordTimeout = time.Second
	sleep := strconv.FormatFloat((2 * o.recordTimeout).Seconds(), 'f', -1, 64)
	for _, q := range []string{
		`CREATE SEQUENCE audit_commits`,
		`CREATE FUNCTION fail_first_audit_commit() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN
				IF nextval('audit_commits') = 1 THEN
					PERFORM pg_sleep(` + sleep + `);
					RAISE EXCEPTION 'refused by the test';
				END IF;
				RETURN NULL;
			END $$`,
		`CREATE CONSTRAINT TRIGGER fail_first_audit_commit AFTER INSERT ON admin_actions
			DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION fail_first_audit_commit()`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
}

func TestAControlWhoseCommitOutlivesItsContextIsRolledForward(t *testing.T) {
	f := newFaultyOperator(t, 5*time.Second)
	failFirstCommitSlowly(t, f.db, f.Operator)
	state, err := f.Control(t.Context(), f.saleID, Control{Action: ActionAddStock, Value: 3, Actor: "ops"})
	if err != nil {
		t.Fatalf("the roll forward failed: %v", err)
	}
	if state != StateOpen {
		t.Errorf("state %q, want open", state)
	}
	if pg, rs := f.stocks(t); pg != 8 || rs != 8 {
		t.Errorf("stock: postgres %d, redis %d, want 8 and 8", pg, rs)
	}
	var n int
	if err := f.db.Get(&n, `SELECT count(*) FROM admin_actions WHERE action = 'add_stock' AND detail->>'state' = 'open'`); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("%d add_stock rows with the state in the audit log, want 1", n)
	}
}

func TestARecordWhoseCommitOutlivesItsContextIsWrittenAgain(t *testing.T) {
	f := newFaultyOperator(t, 5*time.Second)
	failFirstCommitSlowly(t, f.db, f.Operator)
	applied := false
	err := f.Record(t.Context(), "block", "ops", map[string]string{"ip": "203.0.113.1"},
		func(context.Context) error { applied = true; return nil })
	if err != nil || !applied {
		t.Fatalf("record: %v (applied: %t)", err, applied)
	}
	var n int
	if err := f.db.Get(&n, `SELECT count(*) FROM admin_actions WHERE action = 'block'`); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("%d block rows in the audit log, want 1", n)
	}
}

func TestARecordWhoseClientHangsUpMidwayStillAppliesAndRecords(t *testing.T) {
	f := newFaultyOperator(t, 5*time.Second)
	ctx, hangUp := context.WithCancel(t.Context())
	key := "blocked:203.0.113.2"
	err := f.Record(ctx, "block", "ops", map[string]string{"ip": "203.0.113.2"}, func(ctx context.Context) error {
		if err := f.redis.Set(ctx, key+":first", 1, 0).Err(); err != nil {
			return err
		}
		hangUp() // the client goes away between the two writes
		return f.redis.Set(ctx, key+":second", 1, 0).Err()
	})
	if err != nil {
		t.Fatalf("record: %v", err)
	}
	if n := f.redis.Exists(t.Context(), key+":first", key+":second").Val(); n != 2 {
		t.Errorf("%d of the 2 writes landed", n)
	}
	var n int
	if err := f.db.Get(&n, `SELECT count(*) FROM admin_actions WHERE action = 'block'`); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("%d block rows in the audit log, want 1", n)
	}
}

func TestAnOrderForASaleIsWrittenWhileAnOperatorActionIsUnderWay(t *testing.T) {
	f := newFaultyOperator(t, 30*time.Second)
	f.proxy.armed.Store(true)
	done := make(chan error, 1)
	go func() {
		_, err := f.Control(context.Background(), f.saleID, Control{Action: ActionPause, Actor: "ops"})
		done <- err
	}()
	<-f.proxy.scripts // the sale is locked, and Redis is being called
	tx, err := f.db.Beginx()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	// A bound, not a wait: the order needs no lock the operator holds.
	if _, err := tx.Exec(`SET LOCAL lock_timeout = '5s'`); err != nil {
		t.Fatal(err)
	}
	// What an order worker writes (worker/orders.go): the order, and the
	// sale's sold count under its guard.
	_, err = tx.Exec(`INSERT INTO orders (sale_id, reservation_id, shopper_id, transaction_id, quantity, price_cents, status, confirmed_at)
		VALUES ($1, 'r_1', 'alice', 'txn-alice', 1, 9900, 'confirmed', now())`, f.saleID)
	if err != nil {
		t.Errorf("an order insert waited on the operator's lock: %v", err)
	}
	if _, err := tx.Exec(`UPDATE sales SET sold = sold + 1 WHERE id = $1 AND sold + 1 <= stock`, f.saleID); err != nil {
		t.Errorf("raising the sold count waited on a pause: %v", err)
	}
	if err := tx.Commit(); err != nil {
		t.Errorf("the order's commit: %v", err)
	}
	f.proxy.cut() // the pause's reply never comes
	if err := <-done; err == nil {
		t.Error("a pause whose reply was lost succeeded")
	}
}

func TestRetryingACreateAnswersTheFirstSaleAfterItsStartLeftTheAllowedPast(t *testing.T) {
	f := newFaultyOperator(t, 5*time.Second)
	start := time.Now()
	p := validPlan()
	p.StartsAt, p.EndsAt = start.Add(-maxStartsInPast+time.Minute), start.Add(time.Hour)
	p.IdempotencyKey, p.Fingerprint = "create-late", "fingerprint-1"
	first, err := f.Create(t.Context(), p, "ops")
	if err != nil {
		t.Fatal(err)
	}
	f.now = func() time.Time { return start.Add(2 * time.Minute) } // the window has moved on
	again, err := f.Create(t.Context(), p, "ops")
	if err != nil {
		t.Fatalf("the retry: %v", err)
	}
	if again.ID != first.ID {
		t.Errorf("the retry answered sale %s, want the first, %s", again.ID, first.ID)
	}
	p.IdempotencyKey = "create-late-b"
	if _, err := f.Create(t.Context(), p, "ops"); !errors.Is(err, ErrInvalidSale) {
		t.Errorf("a new create with that start: %v, want ErrInvalidSale", err)
	}
}

func TestACreateWhoseCommitOutlivesItsContextLeavesNothingInRedis(t *testing.T) {
	f := newFaultyOperator(t, 5*time.Second)
	failFirstCommitSlowly(t, f.db, f.Operator)
	p := validPlan()
	p.StartsAt, p.EndsAt = time.Now(), time.Now().Add(time.Hour)
	if _, err := f.Create(t.Context(), p, "ops"); err == nil {
		t.Fatal("a create whose commit failed succeeded")
	}
	var ids []string
	if err := f.db.Select(&ids, `SELECT id FROM sales WHERE id <> $1`, f.saleID); err != nil || len(ids) != 0 {
		t.Fatalf("sales in postgres besides the first: %v (%v)", ids, err)
	}
	if active := f.redis.SMembers(t.Context(), ActiveSales).Val(); len(active) != 1 || active[0] != f.saleID {
		t.Errorf("active sales in redis %v, want only the first, %s", active, f.saleID)
	}
	keys := f.redis.Keys(t.Context(), "sale:*").Val()
	for _, k := range keys {
		if !strings.Contains(k, "{"+f.saleID+"}") {
			t.Errorf("the failed create left %s in redis", k)
		}
	}
}
