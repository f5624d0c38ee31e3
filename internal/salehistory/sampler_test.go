package salehistory

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq"
	"github.com/redis/go-redis/v9"

	"github.com/foyerhq/foyer/internal/testenv"
	"github.com/foyerhq/foyer/waitingroom"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// openSale makes a sale that started a minute ago, in Postgres and Redis,
// opens it with an admitter that runs for the rest of the test (it lets
// out up to 1,000 shoppers a second, 10 units' worth), joins shoppers and
// returns its id.
func openSale(t *testing.T, rdb redis.UniversalClient, db *sqlx.DB, shoppers int) string {
	t.Helper()
	ctx := context.Background()
	op := waitingroom.NewOperator(waitingroom.NewCatalog(db), waitingroom.NewRooms(rdb))
	start := time.Now().Add(-time.Minute)
	p, err := op.Create(ctx, waitingroom.Plan{SKU: "H-1", Name: "History", PriceCents: 1000, Currency: "EUR", Stock: 10,
		StartsAt: start, EndsAt: start.Add(time.Hour), OutflowPerSecond: 1000, ReservationTTLSeconds: 300,
		PerShopperLimit: 1}, "test")
	if err != nil {
		t.Fatal(err)
	}
	opened(t, rdb, p.ID)
	rooms := waitingroom.NewRooms(rdb)
	for i := range shoppers {
		if _, err := rooms.Join(ctx, p.ID, fmt.Sprintf("shopper-%03d", i), fmt.Sprintf("txn-%03d", i)); err != nil {
			t.Fatal(err)
		}
	}
	return p.ID
}

func newServers(t *testing.T) (*redis.Client, *sqlx.DB) {
	t.Helper()
	rdb := testenv.RedisClient(t, testenv.NewRedis(t))
	db, err := sqlx.Open("postgres", testenv.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return rdb, db
}

// Two gateways' samplers take turns at nothing: the one holding the lease
// writes every second once, the other writes nothing, and when the holder
// stops the other carries on from the next second.
func TestOneSamplerOfTwoWritesEachSecondOnceAndTheOtherTakesOverWhenItStops(t *testing.T) {
	rdb, db := newServers(t)
	saleID := openSale(t, rdb, db, 0)
	ctx := context.Background()
	first, second := NewSampler(rdb, db, "node-1", quietLog()), NewSampler(rdb, db, "node-2", quietLog())
	t0 := time.Now().Truncate(time.Second)
	// Both tick every second for 25 s of the sale, as two gateways would.
	for i := range 25 {
		now := t0.Add(time.Duration(i) * time.Second)
		for _, s := range []*Sampler{first, second} {
			if err := s.tick(ctx, now); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := first.flush(ctx); err != nil {
		t.Fatal(err)
	}
	if first.Written() != 25 || second.Written() != 0 {
		t.Fatalf("the first wrote %d points, the second %d; want 25 and none", first.Written(), second.Written())
	}
	// The holder stops (its gateway shuts down): the other samples from
	// its next tick, and the series goes on without a second written twice.
	first.release(ctx)
	for i := 25; i < 30; i++ {
		if err := second.tick(ctx, t0.Add(time.Duration(i)*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	if err := second.flush(ctx); err != nil {
		t.Fatal(err)
	}
	series, err := NewStore(db).SeriesOf(ctx, saleID, t0.Unix(), t0.Unix()+60)
	if err != nil {
		t.Fatal(err)
	}
	if len(series.Second) != 30 {
		t.Fatalf("%d points, want 30: %v", len(series.Second), series.Second)
	}
	for i, s := range series.Second {
		if s != t0.Unix()+int64(i) {
			t.Fatalf("point %d is of second %d, want %d", i, s, t0.Unix()+int64(i))
		}
	}
}

// opened runs one admission tick, which opens the sale by Redis's clock.
func opened(t *testing.T, rdb redis.UniversalClient, saleID string) {
	t.Helper()
	a := waitingroom.NewAdmitter(rdb, "n1", quietLog())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = a.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	rooms := waitingroom.NewRooms(rdb)
	deadline := time.Now().Add(5 * time.Second)
	for {
		st, err := rooms.Status(context.Background(), saleID)
		if err == nil && st.State == waitingroom.StateOpen {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the sale did not open: %v %v", st.State, err)
		}
		time.Sleep(10 * time.Millisecond) // polling Redis: the admitter announces nothing the test could await cheaper
	}
}

// A sampler run as a gateway runs it writes the series in real time, and
// what it wrote is there after a restart, which goes on from where it was.
func TestTheSeriesSurvivesARestartOfItsSampler(t *testing.T) {
	rdb, db := newServers(t)
	saleID := openSale(t, rdb, db, 0)
	store := NewStore(db)
	from := time.Now().Unix()
	run := func(node string, points int) {
		s := NewSampler(rdb, db, node, quietLog())
		s.FlushEvery = time.Second
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { _ = s.Run(ctx); close(done) }()
		defer func() { cancel(); <-done }()
		deadline := time.Now().Add(10 * time.Second)
		for {
			series, err := store.SeriesOf(context.Background(), saleID, from, from+3600)
			if err != nil {
				t.Fatal(err)
			}
			if len(series.Second) >= points {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d points after 10 s, want %d", len(series.Second), points)
			}
			time.Sleep(50 * time.Millisecond) // the series is in Postgres: nothing to await but its rows
		}
	}
	run("node-1", 2)
	run("node-1", 4) // the same node, restarted
	series, err := store.SeriesOf(context.Background(), saleID, from, from+3600)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(series.Second); i++ {
		if series.Second[i] <= series.Second[i-1] {
			t.Fatalf("seconds out of order or twice: %v", series.Second)
		}
	}
}

func TestASeriesQueryMustBeInOrderAndAtMostSixHoursWide(t *testing.T) {
	store := NewStore(nil) // refused before any query
	for _, c := range []struct {
		from, to int64
		want     error
	}{
		{0, 100, ErrBadSpan}, {100, 100, ErrBadSpan}, {200, 100, ErrBadSpan}, {-5, 100, ErrBadSpan},
		{1000, 1000 + 6*3600 + 1, ErrSpanTooWide},
	} {
		if _, err := store.SeriesOf(context.Background(), "s_x", c.from, c.to); !errors.Is(err, c.want) {
			t.Errorf("from %d to %d: %v, want %v", c.from, c.to, err, c.want)
		}
	}
}
