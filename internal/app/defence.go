package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/foyerhq/foyer/internal/blocklist"
	"github.com/foyerhq/foyer/internal/ratelimit"
	"github.com/foyerhq/foyer/server"
)

// limits are the gateway's defences as the configuration sets them.
func (c Config) limits() server.Limits {
	return server.Limits{
		IPRequests: c.LimitIPRequests, IPSessions: c.LimitIPSessions, IPConnects: c.LimitIPConnects,
		IPJoins: c.LimitIPJoins, ShopperMessages: c.LimitShopperMessages,
		ConnsPerIP: c.MaxConnsPerIP, ConnsPerShopper: c.MaxConnsPerShopper,
		MaxConnections: c.MaxConnections, MaxJoinsPerSecond: c.MaxJoinsPerSecond,
	}
}

// defences are a gateway's shared defences: the rate limiter, the count of
// open connections per IP and shopper, and the blocklist.
type defences struct {
	limiter *ratelimit.Limiter
	conns   *ratelimit.Conns
	blocks  blocks
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
	return &defences{
		limiter: limiter,
		conns:   conns,
		blocks:  blocks{blocklist.NewWatcher(rdb, log), blocklist.NewManager(rdb)},
	}, nil
}

// refreshConnsEvery keeps this node's open connections counted: entries
// not refreshed for the counter's TTL (60 s) are a dead node's, and age out.
const refreshConnsEvery = 20 * time.Second

// run follows the blocklist and keeps the connection counts fresh until
// ctx ends.
func (d *defences) run(ctx context.Context, log *slog.Logger) error {
	go func() {
		t := time.NewTicker(refreshConnsEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if err := d.conns.Refresh(ctx); err != nil && ctx.Err() == nil {
					log.Warn("refresh connection counts", "err", err)
				}
			}
		}
	}()
	return d.blocks.Watcher.Run(ctx)
}
