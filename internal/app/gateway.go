package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/jmoiron/sqlx"
	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/errgroup"

	"github.com/foyerhq/foyer/checkout"
	"github.com/foyerhq/foyer/internal/branding"
	"github.com/foyerhq/foyer/internal/catalog"
	"github.com/foyerhq/foyer/internal/clock"
	"github.com/foyerhq/foyer/internal/defence/pow"
	"github.com/foyerhq/foyer/internal/identity"
	"github.com/foyerhq/foyer/internal/keyring"
	"github.com/foyerhq/foyer/internal/livestats"
	"github.com/foyerhq/foyer/internal/operators"
	"github.com/foyerhq/foyer/internal/opsport"
	"github.com/foyerhq/foyer/internal/orders"
	"github.com/foyerhq/foyer/internal/orderstream"
	"github.com/foyerhq/foyer/internal/redismetrics"
	"github.com/foyerhq/foyer/internal/salehistory"
	"github.com/foyerhq/foyer/internal/shopkeys"
	"github.com/foyerhq/foyer/internal/stripepay"
	"github.com/foyerhq/foyer/internal/webhooks"
	"github.com/foyerhq/foyer/server"
	"github.com/foyerhq/foyer/waitingroom"
	"github.com/foyerhq/foyer/web"
)

// Gateway is one gateway node: the HTTP and WebSocket server, the admitter
// and the outbox relay. Nodes share nothing but Redis and Postgres.
type Gateway struct {
	cfg       Config
	log       *slog.Logger
	rdb       redis.UniversalClient
	heartbeat redis.UniversalClient // the node's heartbeat alone (Presence.Beat)
	db        *sqlx.DB
	publisher message.Publisher
	server    *server.Server
	admitter  *waitingroom.Admitter
	sampler   *salehistory.Sampler // the sales' per-second series, on the node holding its lease
	presence  *waitingroom.Presence
	checkout  *checkout.Service
	relay     *checkout.OutboxRelay
	reports   *checkout.PaymentReports
	defence   *defences
	Operator  *waitingroom.Operator
	listener  net.Listener
	http      *http.Server

	// durability is Redis's persistence as last read; checkouts are
	// refused while it could lose them (durability.go).
	durability *durability
	// ops serves the metrics and profiles on FOYER_METRICS_ADDR; nil when off.
	ops *opsport.Port
}

// NewGateway connects to Redis and Postgres, migrates, loads the current
// sales into Redis and listens. It serves nothing until Run.
func NewGateway(ctx context.Context, cfg Config, log *slog.Logger) (*Gateway, error) {
	if err := cfg.checkGateway(); err != nil {
		return nil, err
	}
	ring, err := keyring.New(cfg.SigningKeys...)
	if err != nil {
		return nil, fmt.Errorf("FOYER_SIGNING_KEYS: %w", err)
	}
	g := &Gateway{cfg: cfg, log: log, durability: newDurability(cfg.AllowVolatileRedis, true, log)}
	if cfg.AllowVolatileRedis {
		log.Warn("FOYER_ALLOW_VOLATILE_REDIS is set: checkouts are taken even if Redis could lose them in a crash. Only for throwaway runs.")
	}
	if g.rdb, err = connectRedis(ctx, cfg.RedisURL, g.durability.onConnect); err != nil {
		return nil, err
	}
	// Confirmations wait for the replicas asked for, whoever makes them.
	if cfg.RedisWaitReplicas > 0 {
		warnIfReplicasShort(ctx, g.rdb, cfg.RedisWaitReplicas, log)
	}
	g.rdb = waitingroom.WithReplicas(g.rdb, cfg.RedisWaitReplicas, cfg.RedisWaitTimeout)
	g.durability.check(ctx, g.rdb)
	if g.db, err = connectPostgres(ctx, cfg.DatabaseURL); err != nil {
		g.Close()
		return nil, err
	}
	g.db.SetMaxOpenConns(gatewayPostgresConns)
	if g.publisher, err = orderstream.NewPublisher(g.rdb, log); err != nil {
		g.Close()
		return nil, err
	}
	// Before anything is published to them: the workers read every
	// partition up to the highest count announced.
	if _, err = orderstream.Announce(ctx, g.rdb, cfg.partitions()); err != nil {
		g.Close()
		return nil, err
	}
	rooms := waitingroom.NewRooms(g.rdb)
	g.Operator = waitingroom.NewOperator(waitingroom.NewCatalog(g.db), rooms)
	// Invited sales keep their lists by the customers' shopper ids, as
	// sessions made from identity tokens derive them.
	g.Operator.CustomerShopper = server.CustomerShopperIDs(ring)
	if n, err := g.Operator.LoadCurrent(ctx, time.Now()); err != nil {
		g.Close()
		return nil, err
	} else if n > 0 {
		log.Info("current sales loaded", "count", n)
	}
	g.admitter = waitingroom.NewAdmitter(g.rdb, cfg.NodeID, log)
	g.admitter.Tick = cfg.AdmissionTick
	g.admitter.Grace = cfg.GracePeriod
	g.sampler = salehistory.NewSampler(g.rdb, g.db, cfg.NodeID, log)
	g.sampler.Retention = cfg.SeriesRetention
	g.sampler.FlushEvery = cfg.SeriesFlush
	g.presence = waitingroom.NewPresence(g.rdb, cfg.NodeID)
	if g.heartbeat, err = connectHeartbeat(cfg.RedisURL); err != nil {
		g.Close()
		return nil, err
	}
	g.presence.Beat = g.heartbeat
	guard, err := newPowGuard(cfg, ring, g.rdb)
	if err != nil {
		g.Close()
		return nil, err
	}
	if g.defence, err = newDefences(g.rdb, cfg, log); err != nil {
		g.Close()
		return nil, err
	}
	// The blocklist is in force from the first request.
	if err := g.defence.blocks.Sync(ctx); err != nil {
		g.Close()
		return nil, err
	}
	identityKeys, err := cfg.identityKeys()
	if err != nil {
		g.Close()
		return nil, err
	}
	tokens := checkout.NewTokens(ring)
	// Confirmations go out in batches of a few milliseconds (the defaults).
	g.checkout = checkout.NewService(g.rdb, tokens, g.publisher, cfg.partitions(), log, checkout.BatchedBy(0, 0))
	g.relay = checkout.NewOutboxRelay(g.checkout)
	g.reports = checkout.NewPaymentReports(g.publisher, cfg.partitions())

	if g.listener, err = listen(ctx, cfg.HTTPAddr); err != nil {
		g.Close()
		return nil, err
	}
	ops := livestats.New(g.rdb, g.db) // the operators' views of the pipeline and the sales
	g.server = server.New(server.Config{
		AdminToken: cfg.AdminToken, PublicURL: g.URL(), ShopURL: cfg.ShopURL, ImageHosts: cfg.ImageHosts, AllowedOrigins: cfg.AllowedOrigins,
		IdleTimeout: cfg.IdleTimeout, WebhookSecret: cfg.WebhookSecret, StripePublishableKey: cfg.stripePublishableKey(),
		Limits: cfg.limits(), TrustedProxies: cfg.TrustedProxies,
		Signals: server.Signals{EarlyJoin: cfg.SignalEarlyJoin, FastCheckout: cfg.SignalFastCheckout,
			SessionsPerIP: cfg.SignalSessionsPerIP},
	}, server.Deps{
		Operator: g.Operator, Rooms: rooms, Presence: g.presence, Checkout: durableCheckouts{g.checkout, g.durability},
		Redeems: durableRedeems{g.checkout, g.durability},
		Answers: checkout.NewAnswers(g.rdb), Payments: g.reports, Stripe: stripeWebhooks(cfg), StripeEvents: stripepay.NewEvents(g.rdb), Pipeline: ops,
		Orders: orders.NewReader(g.db), ReservationOrders: orders.NewReader(g.db),
		PaymentSecrets: checkout.NewPaymentSecrets(g.rdb, 2*cfg.PaymentTimeout), PaymentSummaries: orders.NewReader(g.db), ShopKeys: shopkeys.New(g.db),
		Products: catalog.New(g.db), Webhooks: webhookStore(g.db, cfg),
		Live: liveWithWarnings{ops, g.durability}, Tokens: tokens, Ring: ring, Pow: guard,
		Ready: g.ready, Web: web.FS(), Log: log,
		Limiter: g.defence.limiter, Conns: g.defence.conns, Blocklist: g.defence.blocks,
		Sessions: g.defence.sessions, Identity: newIdentityVerifier(identityKeys, g.rdb),
		Invitations: g.Operator, Accounts: operators.New(g.db), History: salehistory.NewReports(g.rdb, g.db),
		Brandings: branding.NewStore(g.db),
	})
	// Redis's calls are measured from here on, on the node's registry.
	redisCalls, err := redismetrics.New(g.server.Registerer())
	if err != nil {
		g.Close()
		return nil, fmt.Errorf("redis metrics: %w", err)
	}
	g.rdb.AddHook(redisCalls)
	if replicated, ok := g.rdb.(*waitingroom.Replicated); ok {
		replicated.Timed = redisCalls.Observe
	}
	if g.admitter.Counts, err = newAdmissionCounts(g.server.Registerer()); err != nil {
		g.Close()
		return nil, err
	}
	// An idle keep-alive connection holds a goroutine and two buffers: one
	// left open for ever by each visitor's browser would add up to more
	// than the WebSockets.
	g.http = &http.Server{Handler: g.server.Handler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: httpIdleTimeout}
	if g.ops, err = opsport.Listen(cfg.MetricsAddr, "FOYER_METRICS_ADDR", g.server.OpsHandler()); err != nil {
		g.Close()
		return nil, err
	}
	return g, nil
}

// newIdentityVerifier verifies shops' identity tokens with keys, spending
// their ids in Redis; nil, identity off, when keys holds none.
func newIdentityVerifier(keys identity.Keys, rdb redis.UniversalClient) server.IdentityVerifier {
	v := identity.NewVerifier(keys, identity.NewRedisSpender(rdb), time.Now)
	if v == nil {
		return nil // not a nil *Verifier in the interface: that would look configured
	}
	return v
}

// recordSpendsTimeout bounds one copy of the invite codes spent into
// Postgres; what it did not copy waits for the next.
const recordSpendsTimeout = 10 * time.Second

// announceEvery is how often a gateway announces its stream partitions
// again: one command, against messages a worker would not read.
const announceEvery = 10 * time.Second

// httpIdleTimeout is how long the gateway keeps an idle HTTP keep-alive
// connection (never a WebSocket: those have FOYER_WS_IDLE_TIMEOUT).
const httpIdleTimeout = time.Minute

// newPowGuard makes the guard of proof of work on join, with
// FOYER_POW_SECRET or, when it is not set, a secret derived from the signing
// key: either way every node agrees on it.
func newPowGuard(cfg Config, ring *keyring.Ring, rdb redis.UniversalClient) (*pow.Guard, error) {
	secret := []byte(cfg.PowSecret)
	if cfg.PowSecret == "" {
		secret = ring.DeriveSecret("pow")
	}
	guard, err := pow.NewGuard(secret, rdb)
	if err != nil {
		return nil, fmt.Errorf("FOYER_POW_SECRET: %w", err)
	}
	return guard, nil
}

// Addr is the address the gateway listens on.
func (g *Gateway) Addr() string { return g.listener.Addr().String() }

// OpsAddr is the address the gateway serves its metrics and profiles on,
// empty when FOYER_METRICS_ADDR is off.
func (g *Gateway) OpsAddr() string { return g.ops.Addr() }

// URL is the base URL shoppers reach this gateway at.
func (g *Gateway) URL() string { return g.cfg.publicURL(g.Addr()) }

// Run serves until ctx ends, then drains: shoppers are told to reconnect
// elsewhere, and requests in flight get FOYER_SHUTDOWN_GRACE to finish.
func (g *Gateway) Run(ctx context.Context) error {
	grp, gctx := errgroup.WithContext(ctx)
	// The publishers outlive the HTTP server's drain: a checkout or a
	// payment webhook answered within the shutdown grace is sent on by
	// them before the node is gone, not left in the outbox for another
	// node's relay (or this one's restart) to find.
	pubCtx, stopPublishing := context.WithCancel(context.WithoutCancel(ctx))
	defer stopPublishing()
	grp.Go(func() error { return g.admitter.Run(gctx) })
	grp.Go(func() error { return g.sampler.Run(gctx) })
	grp.Go(func() error { return g.relay.Run(pubCtx) })
	grp.Go(func() error { return g.checkout.Run(pubCtx) })
	grp.Go(func() error { return g.reports.Run(pubCtx) })
	grp.Go(func() error { return g.presence.Run(gctx, g.recordShoppersAgain) })
	// A block closes the sockets already open too, on every node, as soon
	// as the node hears of it.
	grp.Go(func() error { return g.defence.run(gctx, func() { g.server.CloseBlocked() }, g.log) })
	grp.Go(func() error { return g.durability.run(gctx, g.rdb) })
	// The partition count is announced again now and then: a record lost
	// with Redis, or lowered by hand while this node publishes to more,
	// would leave partitions no worker reads.
	grp.Go(func() error {
		clock.Every(gctx, announceEvery, func(ctx context.Context) {
			if _, err := orderstream.Announce(ctx, g.rdb, g.cfg.partitions()); err != nil && ctx.Err() == nil {
				g.log.Warn("announce the stream partitions", "err", err)
			}
		})
		return nil
	})
	// Invite codes spent in Redis reach Postgres within a tick, so a sale
	// Redis loses comes back with them spent (waitingroom/invitespends.go).
	grp.Go(func() error {
		clock.Every(gctx, waitingroom.InviteSpendsEvery, func(ctx context.Context) {
			// A Postgres that hangs delays the copy, never stops it for good.
			ctx, cancel := context.WithTimeout(ctx, recordSpendsTimeout)
			defer cancel()
			if err := g.Operator.RecordInviteSpends(ctx); err != nil && gctx.Err() == nil {
				g.log.Warn("record spent invite codes in postgres", "err", err)
			}
		})
		return nil
	})
	grp.Go(func() error { return g.server.Run(gctx) })
	grp.Go(func() error {
		if err := g.http.Serve(g.listener); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serve http: %w", err)
		}
		return nil
	})
	grp.Go(g.ops.Serve)
	grp.Go(func() error {
		<-gctx.Done()
		defer stopPublishing() // every request has been answered, or the grace is over
		sctx, cancel := context.WithTimeout(context.Background(), g.cfg.ShutdownGrace)
		defer cancel()
		g.ops.Close() // a profile being taken does not hold the node up
		return g.http.Shutdown(sctx)
	})
	return grp.Wait()
}

// recordShoppersAgain says again whom the node holds, after an outage long
// enough for it to look dead: its shoppers, still connected, must not count
// as away.
func (g *Gateway) recordShoppersAgain(ctx context.Context) {
	for saleID, shoppers := range g.server.Shoppers() {
		if err := g.presence.ArriveAll(ctx, saleID, shoppers); err != nil {
			g.log.Warn("record the node's shoppers again", "sale", saleID, "err", err)
		}
	}
}

// ready is the node's answer to /readyz. It names what failed and logs the
// raw errors: those carry addresses, which the probe must not tell.
func (g *Gateway) ready(ctx context.Context) server.ReadyReport {
	var r server.ReadyReport
	if err := g.rdb.Ping(ctx).Err(); err != nil {
		g.log.Warn("not ready: redis does not answer", "err", err)
		r.Failed = append(r.Failed, "redis")
	}
	if err := g.db.PingContext(ctx); err != nil {
		g.log.Warn("not ready: postgres does not answer", "err", err)
		r.Failed = append(r.Failed, "postgres")
	}
	failed, reason, warning := g.durability.report()
	if failed {
		r.Refusing = append(r.Refusing, "checkout")
		r.Reason = "redis_persistence: " + reason
	}
	if warning != "" {
		r.Warnings = append(r.Warnings, warning)
	}
	return r
}

// liveWithWarnings adds what the node knows is wrong with its setup to the
// dashboard's numbers.
type liveWithWarnings struct {
	server.LiveStats
	durability *durability
}

func (l liveWithWarnings) Snapshot(ctx context.Context) (livestats.Snapshot, error) {
	snap, err := l.LiveStats.Snapshot(ctx)
	snap.Warnings = append(snap.Warnings, l.durability.warnings()...)
	return snap, err
}

// Close releases the connections. Call it after Run has returned.
func (g *Gateway) Close() error {
	var errs []error
	if g.listener != nil {
		g.listener.Close()
	}
	g.ops.Close()
	if g.publisher != nil {
		errs = append(errs, g.publisher.Close())
	}
	if g.db != nil {
		errs = append(errs, g.db.Close())
	}
	if g.rdb != nil {
		errs = append(errs, g.rdb.Close())
	}
	if g.heartbeat != nil {
		errs = append(errs, g.heartbeat.Close())
	}
	return errors.Join(errs...)
}

// webhookStore keeps the shop's webhook endpoints, under the address
// policy the workers dial with.
func webhookStore(db *sqlx.DB, cfg Config) *webhooks.Store {
	s := webhooks.NewStore(db)
	s.AllowPrivate = cfg.WebhookAllowPrivate
	s.Retention = cfg.WebhookRetention
	return s
}
