package app

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/foyerhq/foyer/internal/clock"
	"github.com/foyerhq/foyer/internal/defence/blocklist"
	"github.com/foyerhq/foyer/internal/defence/ratelimit"
	"github.com/foyerhq/foyer/server"
)

// limits are the gateway's defences as the configuration sets them.
func (c Config) limits() server.Limits {
	return server.Limits{
		IPRequests: c.LimitIPRequests, IPSessions: c.LimitIPSessions, IPConnects: c.LimitIPConnects,
		IPJoins: c.LimitIPJoins, ShopperMessages: c.LimitShopperMessages, ShopperCheckouts: c.LimitShopperCheckouts,
		ConnsPerIP: c.MaxConnsPerIP, ConnsPerShopper: c.MaxConnsPerShopper,
		MaxConnections: c.MaxConnections, MaxJoinsPerSecond: c.MaxJoinsPerSecond,
		IPLogins: c.LimitIPLogins, AccountLogins: c.LimitAccountLogins,
	}
}

// defences are a gateway's shared defences: the rate limiter, the count of
// open connections per IP and shopper, the blocklist, and the tally of new
// sessions per IP behind the signal many_identities.
type defences struct {
	limiter  *ratelimit.Limiter
	conns    *ratelimit.Conns
	blocks   blocks
	sessions *ratelimit.Tally // new sessions per address, for the signal many_identities
	// refresh renews the node's lease on its connection counts, every
	// refreshEvery: conns.Refresh and refreshConnsEvery.
	refresh      func(context.Context) error
	refreshEvery time.Duration
}

// blocks is the blocklist as the server uses it: the node's copy for
// checks, the Redis list for the admin API.
type blocks struct {
	*blocklist.Watcher
	*blocklist.Manager
}

func newDefences(rdb redis.UniversalClient, cfg Config, log *slog.Logger) (*defences, error) {
	limiter, err := ratelimit.NewLimiter(rdb, cfg.limits().Rules()...)
	if err != nil {
		return nil, err
	}
	// Failing open is for a Redis that is down, not one that is merely busy
	// under the very flood the limits are for: wait up to a second.
	limiter.Timeout = time.Second
	conns := ratelimit.NewConns(rdb, "ws")
	conns.Timeout = time.Second
	conns.TTL = connsTTL
	sessions := ratelimit.NewTally(rdb, "sessions") // a 10-minute window, as the README says
	sessions.Timeout = time.Second
	return &defences{
		limiter:      limiter,
		conns:        conns,
		blocks:       blocks{blocklist.NewWatcher(rdb, log), blocklist.NewManager(rdb)},
		sessions:     sessions,
		refresh:      conns.Refresh,
		refreshEvery: refreshConnsEvery,
	}, nil
}

// Each open connection counts while its node renews its lease, one round
// trip per node per period whatever the number of connections it holds; a node
// not heard from for connsTTL is dead, and its connections stop counting. So
// the period can be short: a node that dies leaves its shoppers' connections
// counted for at most a minute (their reconnections elsewhere count meanwhile).
const (
	connsTTL          = time.Minute
	refreshConnsEvery = 20 * time.Second
)

// run follows the blocklist, calling blocksChanged after each change, and
// keeps the connection counts fresh until ctx ends. It returns once both
// have stopped: a refresh still in flight after the gateway's Run returned
// would use a Redis client Close is about to close.
func (d *defences) run(ctx context.Context, blocksChanged func(), log *slog.Logger) error {
	ctx, cancel := context.WithCancel(ctx)
	var refreshing sync.WaitGroup
	defer refreshing.Wait()
	defer cancel() // the blocklist's end (an error) ends the refreshes too
	refreshing.Go(func() { d.refreshConns(ctx, log) })
	return d.blocks.Watcher.Run(ctx, blocksChanged)
}

// refreshConns renews the node's connection counts every refreshEvery
// until ctx ends.
func (d *defences) refreshConns(ctx context.Context, log *slog.Logger) {
	clock.Every(ctx, d.refreshEvery, func(ctx context.Context) {
		if err := d.refresh(ctx); err != nil && ctx.Err() == nil {
			log.Warn("refresh connection counts", "err", err)
		}
	})
}
