package ratelimit

import (
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/hex"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

//go:embed lua/acquire.lua
var acquireSource string

var acquireScript = redis.NewScript(acquireSource)

// Conns caps how many connections one key (an IP, a shopper) holds open at
// once, across all nodes.
//
// Each open connection is a lease in a sorted set per key (member: a unique
// connection id, score: when the lease ends). The node renews the leases of its
// live connections with Refresh; a node that dies renews nothing, and its
// connections stop counting once their leases end, so a crash never locks a
// shopper out for longer than TTL.
//
// Lease ends are read from each node's clock: nodes must agree on the time to
// well within TTL, which NTP gives by orders of magnitude.
type Conns struct {
	rdb  redis.UniversalClient
	name string
	// TTL is how long a connection counts without a Refresh. Call Refresh a few
	// times per TTL (every 20s for the default) so one late call costs nothing.
	// Defaults to 60s.
	TTL time.Duration
	// Timeout bounds how long Acquire waits for Redis before it gives up and
	// lets the connection through; see Limiter.Timeout. Defaults to 200ms.
	Timeout time.Duration

	now    func() time.Time // the node's clock; tests move it
	prefix string           // makes this node's connection ids unique
	seq    atomic.Uint64

	mu   sync.Mutex
	live map[string]string // connection id -> its key's set in Redis
}

// NewConns returns a cap on connections named name ("ws_ip", "ws_shopper"),
// with the defaults documented on its fields. Its sets live at
// foyer:rl:conns:<name>:<key>.
func NewConns(rdb redis.UniversalClient, name string) *Conns {
	var b [8]byte
	rand.Read(b[:]) // never fails (crypto/rand's contract since Go 1.24)
	return &Conns{
		rdb: rdb, name: name, TTL: 60 * time.Second, Timeout: defaultTimeout,
		now: time.Now, prefix: hex.EncodeToString(b[:]), live: map[string]string{},
	}
}

// Acquire counts one more open connection for key, or refuses it with
// ErrTooManyConns when key already holds limit of them. A limit of zero or less
// means no cap and costs no Redis call.
//
// release is never nil, and calling it (once or more) is always safe: the
// connection's slot is freed at once rather than when its lease ends. It
// takes a context because it talks to Redis; pass one that outlives the
// connection's own (context.WithoutCancel).
//
// When Redis fails the connection is let through and the error returned beside
// it (the package's fail-open promise). It may then go uncounted: while Redis
// is in trouble the cap errs on the side of letting shoppers in.
func (c *Conns) Acquire(ctx context.Context, key string, limit int) (release func(context.Context) error, err error) {
	if limit <= 0 {
		return noRelease, nil
	}
	set := keyPrefix + "conns:" + c.name + ":" + key
	id := c.prefix + "-" + strconv.FormatUint(c.seq.Add(1), 36)
	now := c.now()
	sctx, cancel := withTimeout(ctx, c.Timeout)
	defer cancel()
	ok, err := acquireScript.Run(sctx, c.rdb, []string{set},
		now.UnixMilli(), now.Add(c.TTL).UnixMilli(), id, limit, c.TTL.Milliseconds()).Int()
	if err == nil && ok == 0 {
		return noRelease, fmt.Errorf("acquire %s connection for %s: %w", c.name, key, ErrTooManyConns)
	}
	c.mu.Lock()
	c.live[id] = set
	c.mu.Unlock()
	release = c.releaser(set, id)
	if err != nil {
		return release, fmt.Errorf("acquire %s connection for %s: %w", c.name, key, err)
	}
	return release, nil
}

func noRelease(context.Context) error { return nil }

func (c *Conns) releaser(set, id string) func(context.Context) error {
	var once sync.Once
	return func(ctx context.Context) error {
		var err error
		once.Do(func() {
			c.mu.Lock()
			delete(c.live, id)
			c.mu.Unlock()
			// Should this fail, the lease still ends on its own within TTL.
			if err = c.rdb.ZRem(ctx, set, id).Err(); err != nil {
				err = fmt.Errorf("release %s connection %s: %w", c.name, id, err)
			}
		})
		return err
	}
}

// Refresh renews the leases of all this node's open connections, in one
// pipeline.
//
// It only renews leases that still exist (ZADD XX): a connection released while
// Refresh is on its way must not come back as a ghost that holds a slot for a
// whole TTL, and one whose lease lapsed (Redis was away longer than TTL) is
// left uncounted, erring towards letting shoppers in like every failure here.
func (c *Conns) Refresh(ctx context.Context) error {
	c.mu.Lock()
	bySet := make(map[string][]redis.Z, len(c.live))
	expires := float64(c.now().Add(c.TTL).UnixMilli())
	for id, set := range c.live {
		bySet[set] = append(bySet[set], redis.Z{Score: expires, Member: id})
	}
	c.mu.Unlock()
	if len(bySet) == 0 {
		return nil
	}
	pipe := c.rdb.Pipeline()
	for set, leases := range bySet {
		pipe.ZAddXX(ctx, set, leases...)
		pipe.PExpire(ctx, set, c.TTL)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("refresh %d %s connection keys: %w", len(bySet), c.name, err)
	}
	return nil
}
