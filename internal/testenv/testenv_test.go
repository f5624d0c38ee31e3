package testenv_test

import (
	"database/sql"
	"fmt"
	"testing"

	"github.com/foyerhq/foyer/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func TestNewRedisServesItsOwnServer(t *testing.T) {
	c := testenv.RedisClient(t, testenv.NewRedis(t))
	if err := c.Set(t.Context(), "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if n, err := c.DBSize(t.Context()).Result(); err != nil || n != 1 {
		t.Fatalf("DBSIZE = %d, %v; want 1 key", n, err)
	}
}

func TestNewRedisWithAppendOnlySurvivesKill(t *testing.T) {
	r := testenv.NewRedis(t, testenv.WithAppendOnly())
	c := testenv.RedisClient(t, r)
	if err := c.Set(t.Context(), "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := r.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := r.Restart(t.Context()); err != nil {
		t.Fatal(err)
	}
	if v, err := c.Get(t.Context(), "k").Result(); err != nil || v != "v" {
		t.Fatalf("GET k = %q, %v; want \"v\"", v, err)
	}
}

// Parallel tests clone the template at the same time, which Postgres refuses
// unless the clones are serialized.
func TestNewDatabaseIsMigratedAndPrivate(t *testing.T) {
	for i := range 4 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			db, err := sql.Open("postgres", testenv.NewDatabase(t))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			for _, table := range []string{"sales", "orders"} {
				var n int
				if err := db.QueryRowContext(t.Context(), "SELECT count(*) FROM "+table).Scan(&n); err != nil {
					t.Fatalf("table %s: %v", table, err)
				}
				if n != 0 {
					t.Fatalf("table %s holds %d rows, want a fresh database", table, n)
				}
			}
			_, err = db.ExecContext(t.Context(), `INSERT INTO sales (id, sku, name, price_cents, stock, starts_at,
				ends_at, outflow_per_second, reservation_ttl_seconds) VALUES ('s', 'sku', 'n', 100, 10, now(),
				now() + interval '1 hour', 5, 60)`)
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// Every goroutine is counted, however many the process holds: a fixed
// buffer of 1 MiB used to cut the list short, and a test's count of its
// own goroutines came out 0 behind other tests' leftovers.
func TestCountGoroutinesSeesAGoroutineBehindThousandsOfOthers(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	for range 20_000 {
		go func() { <-release }()
	}
	found := make(chan struct{})
	go parkedWhileCounted(release, found)
	<-found
	if n := testenv.CountGoroutines("testenv_test.parkedWhileCounted"); n != 1 {
		t.Fatalf("%d goroutines in parkedWhileCounted, want 1", n)
	}
}

func parkedWhileCounted(release <-chan struct{}, started chan<- struct{}) {
	close(started)
	<-release
}

// RedisCalls counts round trips and commands, only those named when Only
// is set, and never a new connection's handshake.
func TestRedisCallsCountsRoundTripsAndCommands(t *testing.T) {
	c := testenv.RedisClient(t, testenv.NewRedis(t))
	all, zrems := &testenv.RedisCalls{}, &testenv.RedisCalls{Only: []string{"zrem"}}
	c.AddHook(all)
	c.AddHook(zrems)
	ctx := t.Context()
	c.Set(ctx, "k", "v", 0) // the first command opens a connection: its HELLO is not counted
	pipe := c.Pipeline()
	pipe.ZRem(ctx, "z", "a")
	pipe.ZRem(ctx, "z", "b")
	pipe.Get(ctx, "k")
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if all.Trips() != 2 || all.Commands() != 4 {
		t.Errorf("every command: %d trips, %d commands; want 2 and 4", all.Trips(), all.Commands())
	}
	if zrems.Trips() != 1 || zrems.Commands() != 2 {
		t.Errorf("zrem only: %d trips, %d commands; want 1 and 2", zrems.Trips(), zrems.Commands())
	}
}
