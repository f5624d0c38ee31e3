package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq" // the Postgres driver sqlx opens by name
	"github.com/redis/go-redis/v9"

	"github.com/foyerhq/foyer/internal/keyring"
	"github.com/foyerhq/foyer/internal/reconcile"
	"github.com/foyerhq/foyer/migrations"
	"github.com/foyerhq/foyer/server"
	"github.com/foyerhq/foyer/waitingroom"
)

// NewLogger returns the process's logger as configured.
func NewLogger(cfg Config) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}

// connectRedis opens the shared Redis, or Redis Cluster, and checks that it
// answers. onConnect, when not nil, runs on each new connection (the
// client's OnConnect; on a cluster, to each of its nodes): durability reads
// Redis's persistence settings there.
func connectRedis(ctx context.Context, url string, onConnect func(context.Context, *redis.Conn) error) (redis.UniversalClient, error) {
	target, err := parseRedisURL(url)
	if err != nil {
		return nil, err
	}
	rdb := target.client(onConnect, false)
	if err := rdb.Ping(ctx).Err(); err != nil {
		rdb.Close()
		return nil, fmt.Errorf("connect to redis at %s: %w", target.addrs(), err)
	}
	return rdb, nil
}

// connectHeartbeat opens a client of one connection (per node of a
// cluster) beside the shared one, for the node's heartbeat alone
// (waitingroom.Presence.Beat).
func connectHeartbeat(url string) (redis.UniversalClient, error) {
	target, err := parseRedisURL(url)
	if err != nil {
		return nil, err
	}
	return target.client(nil, true), nil
}

// The bounds of FOYER_REDIS_WAIT_REPLICAS and FOYER_REDIS_WAIT_TIMEOUT: a
// primary with more replicas than 5 is rare, and a wait past 10 s holds the
// shopper longer than a checkout's own deadline; under 10 ms a replica on
// another host could never answer in time.
const (
	maxRedisWaitReplicas = 5
	minRedisWaitTimeout  = 10 * time.Millisecond
	maxRedisWaitTimeout  = 10 * time.Second
)

// The history sampler writes at least once a minute, so a gateway that dies
// loses at most a minute of a sale's series, and at most ten times a second (tests); its
// series are kept at least a day after the sale, so the report can be read.
const (
	minSeriesFlush     = 100 * time.Millisecond
	maxSeriesFlush     = time.Minute
	minSeriesRetention = 24 * time.Hour
)

// The pool keeps postgresIdleConns connections open between bursts, each
// for at most postgresIdleTime unused. database/sql keeps 2 by default, and
// a worker uses more at once (a webhook lane records its batch's 8
// outcomes concurrently): every batch then opened, and closed, 6 Postgres
// connections, a backend process each, and the dispatcher delivered 378 a
// second instead of 1,300 (docs/performance.md, "Webhooks").
const (
	postgresIdleConns = 16
	postgresIdleTime  = time.Minute
)

// The bounds of FOYER_PAYMENT_TIMEOUT: under a second every order would be
// swept before its shopper could pay (and 0 kept the payment secrets,
// whose TTL is twice it, for ever); past a day a unit is held for nobody.
const (
	minPaymentTimeout = time.Second
	maxPaymentTimeout = 24 * time.Hour
)

// gatewayPostgresConns bounds a gateway's connections to Postgres. A
// gateway reads Postgres for operators, shops, and the shoppers who come
// back after checking out (their order as it stands): a gateway restarted
// mid-sale sees thousands of those at once, and unbounded they would take
// Postgres's connections from the order workers. Past the bound a look-up
// waits, within its own deadline (2 s for a shopper's, then "confirmed").
const gatewayPostgresConns = 16

// connectPostgres opens Postgres, checks that it answers and brings its
// schema up to date. Migrating from every process is safe: goose holds an
// advisory lock while it runs.
func connectPostgres(ctx context.Context, url string) (*sqlx.DB, error) {
	db, err := sqlx.Open("postgres", url)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	db.SetMaxIdleConns(postgresIdleConns)
	db.SetConnMaxIdleTime(postgresIdleTime)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to postgres at %s: %w", redactURL(url), err)
	}
	if err := migrations.Apply(ctx, db.DB); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// redactURL hides a password in a URL meant for a log line.
func redactURL(u string) string {
	at := strings.LastIndex(u, "@")
	scheme := strings.Index(u, "://")
	if at < 0 || scheme < 0 {
		return u
	}
	userinfo := u[scheme+3 : at]
	if user, _, ok := strings.Cut(userinfo, ":"); ok {
		return u[:scheme+3] + user + ":***" + u[at:]
	}
	return u
}

// Migrate brings the Postgres schema up to date and returns.
func Migrate(ctx context.Context, cfg Config) error {
	db, err := connectPostgres(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	return db.Close()
}

// ErrDifferent means reconcile found the two sides of a sale apart.
var ErrDifferent = errors.New("redis and postgres differ")

// Reconcile compares a sale's Redis and Postgres sides and prints the
// report; with repair it rebuilds Redis from Postgres first.
func Reconcile(ctx context.Context, cfg Config, saleID string, repair bool, out io.Writer) error {
	rdb, err := connectRedis(ctx, cfg.RedisURL, nil)
	if err != nil {
		return err
	}
	defer rdb.Close()
	db, err := connectPostgres(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	r := reconcile.New(rdb, db)
	// Repair puts an invited sale's lists back too, deriving the customers'
	// shopper ids with the signing key as the gateways do.
	op := waitingroom.NewOperator(waitingroom.NewCatalog(db), waitingroom.NewRooms(rdb))
	if ring, err := keyring.New(cfg.SigningKeys...); err == nil {
		op.CustomerShopper = server.CustomerShopperIDs(ring)
	}
	r.Invitations = op
	if repair {
		if err := r.Repair(ctx, saleID); err != nil {
			return err
		}
		fmt.Fprintf(out, "sale %s: redis rebuilt from postgres\n", saleID)
	}
	rep, err := r.Run(ctx, saleID)
	if err != nil {
		return err
	}
	rep.Print(out)
	if !rep.Consistent() {
		return ErrDifferent
	}
	return nil
}
