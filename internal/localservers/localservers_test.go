package localservers_test

import (
	"database/sql"
	"path/filepath"
	"testing"

	_ "github.com/lib/pq"
	"github.com/redis/go-redis/v9"

	"github.com/foyerhq/foyer/internal/localservers"
)

func startRedis(t *testing.T, appendOnly bool) (*localservers.Redis, *redis.Client) {
	t.Helper()
	r, err := localservers.StartRedis(t.Context(), localservers.RedisOptions{Dir: t.TempDir(), AppendOnly: appendOnly})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := r.Stop(); err != nil {
			t.Error(err)
		}
	})
	opts, err := redis.ParseURL(r.URL())
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(opts)
	t.Cleanup(func() { c.Close() })
	if err := c.Set(t.Context(), "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	return r, c
}

func getK(t *testing.T, c *redis.Client) string {
	t.Helper()
	v, err := c.Get(t.Context(), "k").Result()
	if err != nil && err != redis.Nil {
		t.Fatal(err)
	}
	return v
}

func TestRedisWithAppendOnlyKeepsDataAcrossStopAndKill(t *testing.T) {
	r, c := startRedis(t, true)
	for _, halt := range []struct {
		name string
		do   func() error
	}{{"Stop", r.Stop}, {"Kill", r.Kill}} {
		if err := halt.do(); err != nil {
			t.Fatalf("%s: %v", halt.name, err)
		}
		if err := r.Restart(t.Context()); err != nil {
			t.Fatalf("restart after %s: %v", halt.name, err)
		}
		if v := getK(t, c); v != "v" {
			t.Fatalf("after %s and Restart, k = %q, want \"v\"", halt.name, v)
		}
	}
}

func TestRedisWithoutAppendOnlyForgetsDataOnRestart(t *testing.T) {
	r, c := startRedis(t, false)
	if err := r.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := r.Restart(t.Context()); err != nil {
		t.Fatal(err)
	}
	if v := getK(t, c); v != "" {
		t.Fatalf("k = %q after restart without AOF, want it gone", v)
	}
}

func TestRedisRestartRefusesARunningServer(t *testing.T) {
	r, _ := startRedis(t, false)
	if err := r.Restart(t.Context()); err == nil {
		t.Fatal("Restart of a running server succeeded")
	}
}

func TestPostgresClonesADatabaseFromATemplate(t *testing.T) {
	// A folder below t.TempDir, which is 0700: as root, the postgres user must
	// still reach it.
	p, err := localservers.StartPostgres(t.Context(), localservers.PostgresOptions{
		Dir: filepath.Join(t.TempDir(), "pg"), Fast: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Stop(); err != nil {
			t.Error(err)
		}
	})
	open := func(name string) *sql.DB {
		db, err := sql.Open("postgres", p.URL(name))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	if err := open("foyer").PingContext(t.Context()); err != nil {
		t.Fatalf("database foyer, created at start: %v", err)
	}

	if err := p.CreateDatabase(t.Context(), "tmpl", ""); err != nil {
		t.Fatal(err)
	}
	tmpl := open("tmpl")
	if _, err := tmpl.ExecContext(t.Context(), "CREATE TABLE t (v text); INSERT INTO t VALUES ('cloned')"); err != nil {
		t.Fatal(err)
	}
	tmpl.Close() // Postgres clones only a template nobody is connected to

	if err := p.CreateDatabase(t.Context(), "my-copy", "tmpl"); err != nil {
		t.Fatal(err)
	}
	var v string
	if err := open("my-copy").QueryRowContext(t.Context(), "SELECT v FROM t").Scan(&v); err != nil {
		t.Fatal(err)
	}
	if v != "cloned" {
		t.Fatalf("copy holds %q, want \"cloned\"", v)
	}
	if err := p.DropDatabase(t.Context(), "my-copy"); err != nil { // with the connection still open
		t.Fatal(err)
	}
}
