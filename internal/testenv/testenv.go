// Package testenv gives tests real servers: a fresh redis-server per test, a
// fresh, fully migrated Postgres database per test, cloned from a template in
// one Postgres server that the test package shares, and a Redis Cluster the
// test package shares (or one for a test alone, to kill its nodes).
//
// A package that calls NewDatabase, Postgres or Cluster must run its tests
// through Main, which stops those shared servers and removes their folders.
package testenv

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/lib/pq"
	"github.com/redis/go-redis/v9"

	"github.com/foyerhq/foyer/internal/localservers"
	"github.com/foyerhq/foyer/migrations"
)

// templateDatabase is migrated once per package and cloned for every test.
const templateDatabase = "foyer_template"

// shared is the package's Postgres server, started by the first test that
// needs it and stopped by Main.
var shared struct {
	once sync.Once
	dir  string
	pg   *localservers.Postgres
	err  error

	templateOnce sync.Once
	templateErr  error

	databases atomic.Int64 // names the clones

	clusterOnce sync.Once
	clusterDir  string
	cluster     *localservers.Cluster
	clusterErr  error
}

// Main runs the package's tests, then stops the shared Postgres server, if a
// test started it, and removes its folder. Call it from TestMain; after runs
// once the tests are done, before the shared servers stop.
func Main(m *testing.M, after ...func()) {
	code := m.Run()
	for _, f := range after {
		f()
	}
	if shared.pg != nil {
		if err := shared.pg.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "testenv:", err)
		}
	}
	if shared.dir != "" {
		os.RemoveAll(shared.dir)
	}
	if shared.cluster != nil {
		if err := shared.cluster.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "testenv:", err)
		}
	}
	if shared.clusterDir != "" {
		os.RemoveAll(shared.clusterDir)
	}
	os.Exit(code)
}

// RedisOption changes the options of a server NewRedis starts.
type RedisOption func(*localservers.RedisOptions)

// WithAppendOnly turns the AOF on, for tests that Kill or Stop the server and
// Restart it expecting their data back. Without it, a server keeps nothing.
func WithAppendOnly() RedisOption {
	return func(o *localservers.RedisOptions) { o.AppendOnly = true }
}

// NewRedis starts a redis-server for this test alone, in t.TempDir(), and stops
// it when the test ends.
func NewRedis(t testing.TB, opts ...RedisOption) *localservers.Redis {
	t.Helper()
	o := localservers.RedisOptions{Dir: t.TempDir()}
	for _, opt := range opts {
		opt(&o)
	}
	r, err := localservers.StartRedis(t.Context(), o)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(func() {
		if err := r.Stop(); err != nil {
			t.Errorf("testenv: %v", err)
		}
	})
	return r
}

// RedisClient returns a client of r, closed when the test ends.
func RedisClient(t testing.TB, r *localservers.Redis) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: r.Addr})
	t.Cleanup(func() { c.Close() })
	return c
}

// Postgres returns the package's shared Postgres server, starting it on first
// use (in Fast mode: its data does not survive a crash, nor need to).
func Postgres(t testing.TB) *localservers.Postgres {
	t.Helper()
	shared.once.Do(func() {
		// Not t.TempDir: the server outlives this test.
		if shared.dir, shared.err = os.MkdirTemp("", "foyer-testenv-"); shared.err != nil {
			return
		}
		shared.pg, shared.err = localservers.StartPostgres(t.Context(), localservers.PostgresOptions{
			Dir: filepath.Join(shared.dir, "postgres"), Fast: true})
	})
	if shared.err != nil {
		t.Fatalf("testenv: shared Postgres: %v", shared.err)
	}
	return shared.pg
}

// NewDatabase returns the URL of a database for this test alone, migrated to
// the newest schema, and drops it when the test ends.
func NewDatabase(t testing.TB) string {
	t.Helper()
	pg := Postgres(t)
	shared.templateOnce.Do(func() { shared.templateErr = migrateTemplate(t.Context(), pg) })
	if shared.templateErr != nil {
		t.Fatalf("testenv: %v", shared.templateErr)
	}
	name := fmt.Sprintf("test_%d", shared.databases.Add(1))
	if err := pg.CreateDatabase(t.Context(), name, templateDatabase); err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(func() {
		// t.Context() is already canceled when cleanups run.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := pg.DropDatabase(ctx, name); err != nil {
			t.Errorf("testenv: %v", err)
		}
	})
	return pg.URL(name)
}

// migrateTemplate creates the template database and applies the migrations,
// closing its connections after: Postgres clones only an unused template.
func migrateTemplate(ctx context.Context, pg *localservers.Postgres) error {
	if err := pg.CreateDatabase(ctx, templateDatabase, ""); err != nil {
		return err
	}
	db, err := sql.Open("postgres", pg.URL(templateDatabase))
	if err != nil {
		return err
	}
	defer db.Close()
	if err := migrations.Apply(ctx, db); err != nil {
		return fmt.Errorf("migrate %s: %w", templateDatabase, err)
	}
	return db.Close()
}

// NewStripeMock starts a stripe-mock server for this test alone and stops it
// when the test ends. Point a Stripe client's API base at its URL.
func NewStripeMock(t testing.TB) *localservers.StripeMock {
	t.Helper()
	s, err := localservers.StartStripeMock(t.Context(), localservers.StripeMockOptions{Dir: t.TempDir()})
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Errorf("testenv: %v", err)
		}
	})
	return s
}
