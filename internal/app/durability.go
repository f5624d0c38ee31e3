package app

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/foyerhq/foyer/checkout"
	"github.com/foyerhq/foyer/internal/clock"
	"github.com/foyerhq/foyer/server"
)

// A checkout is confirmed to the shopper once Redis has taken it. Redis keeps
// such a write across a crash only with the AOF on and fsynced on every write
// (appendonly yes, appendfsync always); with everysec a kill loses up to a
// second of them, and a shopper told "confirmed" never gets its order. So the
// gateway reads Redis's persistence settings and takes no checkout while they
// could lose one (docs/architecture.md#redis-persistence).

// recheckDurabilityEvery is how often a node reads the settings again: a
// CONFIG SET changes them on a live server, with no reconnect to notice it.
// Every new connection also reads them (a restarted or failed-over Redis
// comes with new connections), so this only bounds how long a live change
// takes to be seen: one cheap command per node per period.
const recheckDurabilityEvery = 10 * time.Second

// durability is what a node knows of Redis's persistence. Safe for
// concurrent use.
type durability struct {
	// allowVolatile takes checkouts whatever the settings
	// (FOYER_ALLOW_VOLATILE_REDIS), for throwaway runs.
	allowVolatile bool
	// takesCheckouts is true on a gateway; a worker only warns, since the
	// orders already in the streams must be written whatever Redis is.
	takesCheckouts bool
	log            *slog.Logger
	// nodes is the last reading of each Redis server (its address), under
	// mu: on a cluster every primary and replica is read, and one that
	// could lose a write is held against the node whatever the others say.
	mu    sync.Mutex
	nodes map[string]persistence
	state atomic.Pointer[persistence] // the worst of nodes; nil until a check answers
}

// persistence is the outcome of one reading of Redis's settings.
type persistence struct {
	// checked is false when Redis refused CONFIG GET (a managed Redis often
	// does): durability cannot be told, and is not held against the node.
	checked bool
	// durable is appendonly yes with appendfsync always.
	durable bool
	// said is the settings in words: "appendfsync is everysec", or why
	// they could not be read. It is shown on /readyz and the dashboard.
	said string
	// refusal is Redis's own answer to CONFIG GET, for the log only.
	refusal string
}

func newDurability(allowVolatile, takesCheckouts bool, log *slog.Logger) *durability {
	return &durability{allowVolatile: allowVolatile, takesCheckouts: takesCheckouts, log: log,
		nodes: map[string]persistence{}}
}

// onConnect is the Redis client's OnConnect hook: every new connection
// reads the settings of the server it reached once. It never fails the
// connection.
func (d *durability) onConnect(ctx context.Context, cn *redis.Conn) error {
	d.checkServer(ctx, cn.String(), cn) // String names the server: Redis<addr db:n>
	return nil
}

// check reads the settings of every server rdb reaches: each primary and
// replica of a cluster (a replica becomes a primary on a failover), or the
// one Redis.
func (d *durability) check(ctx context.Context, rdb redis.UniversalClient) {
	switch c := rdb.(type) {
	case *redis.ClusterClient:
		// Errors are the servers' own, recorded or logged by checkServer.
		_ = c.ForEachShard(ctx, func(ctx context.Context, node *redis.Client) error {
			d.checkServer(ctx, node.String(), node)
			return nil
		})
	case *redis.Client:
		d.checkServer(ctx, c.String(), c)
	default:
		d.checkServer(ctx, "redis", rdb)
	}
}

// checkServer reads one server's settings and records them under its name.
// A network failure changes nothing: the node goes on with what it knew,
// and the next connection or period reads them again.
func (d *durability) checkServer(ctx context.Context, server string, rdb redis.Cmdable) {
	// One round trip on every Redis version: the pattern matches appendonly
	// and appendfsync (and two file names, ignored).
	settings, err := rdb.ConfigGet(ctx, "append*").Result()
	var redisErr redis.Error
	switch {
	case errors.As(err, &redisErr):
		// The server answered, with a refusal: unknown command, NOPERM.
		d.record(server, persistence{said: "Redis refused CONFIG GET, so its persistence cannot be checked", refusal: err.Error()})
		return
	case err != nil:
		d.log.Debug("read redis persistence settings", "err", err)
		return
	}
	switch appendOnly, fsync := settings["appendonly"], settings["appendfsync"]; {
	case appendOnly != "yes":
		d.record(server, persistence{checked: true, said: "appendonly is " + orUnreported(appendOnly)})
	case fsync != "always":
		d.record(server, persistence{checked: true, said: "appendfsync is " + orUnreported(fsync)})
	default:
		d.record(server, persistence{checked: true, durable: true, said: "appendonly is yes, appendfsync is always"})
	}
}

// orUnreported is a setting's value, or says Redis did not report it.
func orUnreported(v string) string {
	if v == "" {
		return "not reported"
	}
	return v
}

// record keeps p as server's reading, and the worst reading of all as the
// node's, which it logs when it differs from what was known: loudly when
// checkouts stop or are taken at risk.
func (d *durability) record(server string, p persistence) {
	d.mu.Lock()
	d.nodes[server] = p
	p = worst(d.nodes)
	d.mu.Unlock()
	old := d.state.Swap(&p)
	if old != nil && *old == p {
		return
	}
	switch {
	case p.durable:
		if old != nil {
			d.log.Info("redis persistence is durable again: checkouts are taken", "settings", p.said)
		}
	case !p.checked:
		d.log.Warn("redis persistence cannot be checked: make sure it runs with appendonly yes and appendfsync always, or a crash can lose confirmed checkouts", "reason", p.said, "err", p.refusal)
	case !d.takesCheckouts:
		d.log.Warn("redis is not durable: a crash can lose confirmed checkouts on their way to the order workers; run it with appendonly yes and appendfsync always", "settings", p.said)
	case d.allowVolatile:
		d.log.Warn("REDIS IS NOT DURABLE and FOYER_ALLOW_VOLATILE_REDIS is set: checkouts are taken, and a Redis crash can lose ones already confirmed. Only for throwaway runs.", "settings", p.said)
	default:
		d.log.Error("redis is not durable: checkouts are refused (not_durable) until it runs with appendonly yes and appendfsync always", "settings", p.said)
	}
}

// worst is the reading to act on: one that could lose a write, else one
// that could not be read, else a durable one; among several alike, the
// first server's by name. With more than one server, its words name it.
func worst(nodes map[string]persistence) persistence {
	rank := func(p persistence) int {
		switch {
		case p.checked && !p.durable:
			return 0
		case !p.checked:
			return 1
		}
		return 2
	}
	var worstName string
	var w persistence
	for _, name := range slices.Sorted(maps.Keys(nodes)) {
		if p := nodes[name]; worstName == "" || rank(p) < rank(w) {
			worstName, w = name, p
		}
	}
	if len(nodes) > 1 && !w.durable {
		w.said += " on " + worstName
	}
	return w
}

// refusal is server.ErrNotDurable while checkouts must be refused, else nil.
// Before the first reading answers, checkouts are taken: the gateway reads
// the settings before it serves, so that is only a Redis that did not answer
// then, and every checkout would fail on it anyway.
func (d *durability) refusal() error {
	if p := d.state.Load(); p != nil && p.checked && !p.durable && !d.allowVolatile {
		return server.ErrNotDurable
	}
	return nil
}

// report is the node's persistence as /readyz and the dashboard tell it.
func (d *durability) report() (failed bool, reason string, warning string) {
	p := d.state.Load()
	switch {
	case p == nil || p.durable:
		return false, "", ""
	case !p.checked:
		return false, "", p.said + "; make sure it runs with appendonly yes and appendfsync always"
	case d.allowVolatile:
		return false, "", p.said + "; checkouts are taken anyway (FOYER_ALLOW_VOLATILE_REDIS), and a Redis crash can lose confirmed ones"
	default:
		return true, p.said + "; checkouts are refused until Redis runs with appendonly yes and appendfsync always", ""
	}
}

// warnings are report's warning and reason as a list, for the dashboard.
func (d *durability) warnings() []string {
	failed, reason, warning := d.report()
	switch {
	case failed:
		return []string{"Redis is not durable: " + reason}
	case warning != "":
		return []string{"Redis persistence: " + warning}
	}
	return nil
}

// run reads the settings every recheckDurabilityEvery until ctx ends.
func (d *durability) run(ctx context.Context, rdb redis.UniversalClient) error {
	clock.Every(ctx, recheckDurabilityEvery, func(ctx context.Context) { d.check(ctx, rdb) })
	return nil
}

// durableCheckouts is the gateway's checkout, refused with
// server.ErrNotDurable while Redis could lose what it confirms: the refusal
// comes before the checkout touches anything.
type durableCheckouts struct {
	server.Checkouter
	durability *durability
}

func (c durableCheckouts) CheckoutVerified(ctx context.Context, v checkout.Verified, product string, quantity int) (checkout.Receipt, error) {
	if err := c.durability.refusal(); err != nil {
		return checkout.Receipt{}, err // its message is what the shopper reads
	}
	return c.Checkouter.CheckoutVerified(ctx, v, product, quantity)
}

// durableRedeems is the shop's redeem, refused as a checkout is while
// Redis could lose what it confirms; a release is let through, since losing
// one loses only an early return of a unit the tick returns anyway.
type durableRedeems struct {
	server.Redeemer
	durability *durability
}

func (c durableRedeems) RedeemVerified(ctx context.Context, v checkout.Verified, orderRef, product string) (checkout.Redemption, error) {
	if err := c.durability.refusal(); err != nil {
		return checkout.Redemption{}, err
	}
	return c.Redeemer.RedeemVerified(ctx, v, orderRef, product)
}
