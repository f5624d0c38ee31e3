package ratelimit

import (
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/foyerhq/foyer/internal/gather"
)

//go:embed lua/acquire.lua
var acquireSource string

var acquireScript = redis.NewScript(acquireSource)

// Conns caps how many connections one key (an IP, a shopper) holds open at
// once, across all nodes.
//
// Each open connection is a member of a sorted set per key (member: a unique
// connection id made of its node's id and a sequence number; score: when it
// was counted). A connection counts while its node is alive, and a node is
// alive while it renews its own lease with Refresh, one round trip whatever
// the number of connections it holds: a node that dies renews nothing, and
// its connections stop counting once its lease ends, so a crash never locks
// a shopper out for longer than TTL. The dead node's connections are taken
// out of a key when the key reaches its limit, the one moment they would
// change an answer, and only by a node that has heard lately which nodes
// are alive. A key nobody counts a connection in expires after KeyTTL.
//
// Like every failure here, a lapse errs towards letting shoppers in: after
// an outage of Redis longer than TTL every lease has ended, and the
// connections made before it may be taken out of keys at their limit.
//
// Leases are read from each node's clock: nodes must agree on the time to
// within a fraction of TTL/3, which NTP gives by orders of magnitude.
type Conns struct {
	rdb  redis.UniversalClient
	name string
	// TTL is how long a node's connections count after its last Refresh.
	// Call Refresh every TTL/3 (every 20s for the default): a node that has
	// not heard from Redis for TTL/2 takes no connection out of a key, lest
	// it take a live node for dead. Defaults to 60s.
	TTL time.Duration
	// KeyTTL is how long a key's set lives after the last connection counted
	// in it. A connection still open when its key expires stops counting,
	// which errs towards letting shoppers in. Defaults to 24h.
	KeyTTL time.Duration
	// Timeout bounds how long Acquire waits for Redis before it gives up and
	// lets the connection through; see Limiter.Timeout. Defaults to 200ms.
	Timeout time.Duration
	// Gather is how long the first release of a closed connection waits
	// for others, to send them all in one round trip; GatherMost sends a
	// batch at once when it holds that many. Each release still returns
	// once its own is sent. 0 sends each alone. Default 5ms and 1,000.
	Gather     time.Duration
	GatherMost int

	now   func() time.Time // the node's clock; tests move it
	node  string           // this node's id: makes its connection ids unique, and is what its lease renews
	seq   atomic.Uint64
	nodes string      // the sorted set of the nodes' leases: node id -> when its lease ends (unix ms)
	used  atomic.Bool // a connection has been counted: from then on Refresh renews the lease

	mu         sync.Mutex
	alive      map[string]int64  // the nodes alive at the last Refresh, and when each lease ends (unix ms)
	heardAt    time.Time         // when the last Refresh succeeded; zero before the first
	unreleased map[string]string // connection id -> its key's set: releases that failed, retried by Refresh

	releasing gather.Batches[string, releaseOf]
}

// NewConns returns a cap on connections named name ("ws_ip", "ws_shopper"),
// with the defaults documented on its fields. Its sets live at
// foyer:rl:conns:<name>:<key>, and the nodes' leases at
// foyer:rl:conns-nodes:<name>.
func NewConns(rdb redis.UniversalClient, name string) *Conns {
	var b [8]byte
	rand.Read(b[:]) // never fails (crypto/rand's contract since Go 1.24)
	return &Conns{
		rdb: rdb, name: name, TTL: 60 * time.Second, KeyTTL: 24 * time.Hour, Timeout: defaultTimeout,
		Gather: 5 * time.Millisecond, GatherMost: 1000,
		now: time.Now, node: hex.EncodeToString(b[:]), nodes: keyPrefix + "conns-nodes:" + name,
		alive: map[string]int64{}, unreleased: map[string]string{},
	}
}

// Acquire counts one more open connection for key, or refuses it with
// ErrTooManyConns when key already holds limit of them. A limit of zero or less
// means no cap and costs no Redis call.
//
// release is never nil, and calling it (once or more) is always safe: it
// frees the connection's slot. It takes a context because it talks to Redis;
// pass one that outlives the connection's own (context.WithoutCancel). A
// release that fails is sent again with the next Refresh.
//
// When Redis fails the connection is let through and the error returned beside
// it (the package's fail-open promise). It may then go uncounted: while Redis
// is in trouble the cap errs on the side of letting shoppers in.
func (c *Conns) Acquire(ctx context.Context, key string, limit int) (release func(context.Context) error, err error) {
	n := c.Count(key, limit)
	if n == nil {
		return noRelease, nil
	}
	sctx, cancel := withTimeout(ctx, c.Timeout)
	defer cancel()
	n.answer = acquireScript.Run(sctx, c.rdb, []string{n.set}, n.args...)
	return n.Result()
}

// Counting is one connection's count under a cap that a caller sends in a
// pipeline of its own, beside commands of other keys: a new shopper's count
// goes with its arrival, one round trip for both. Queue it, run the
// pipeline, then read Result as Acquire's. Unlike Acquire it has no Timeout
// of its own: it waits, and fails, with the caller's pipeline. Sending it
// twice counts it once.
type Counting struct {
	c        *Conns
	key, set string
	seq      uint64 // what id is made from (idOf)
	id       string
	args     []any
	answer   *redis.Cmd
}

// Count prepares the count of one more open connection for key under limit,
// for a pipeline; nil when limit is zero or less (no cap, no Redis call).
func (c *Conns) Count(key string, limit int) *Counting {
	if limit <= 0 {
		return nil
	}
	n := &Counting{c: c, key: key, seq: c.seq.Add(1)}
	n.set, n.id = c.setOf(key), c.idOf(n.seq)
	now := c.now()
	n.args = c.appendAlive(append(make([]any, 0, 8), now.UnixMilli(), n.id, limit, c.KeyTTL.Milliseconds()), now)
	if !c.used.Load() {
		c.used.Store(true) // once: a store on every connection would write a shared cache line
	}
	return n
}

// Queue adds the count to p: by its script's hash, or, with whole (after
// Redis said it lost its scripts, see NoScript), the script itself.
func (n *Counting) Queue(ctx context.Context, p redis.Pipeliner, whole bool) {
	if whole {
		n.answer = acquireScript.Eval(ctx, p, []string{n.set}, n.args...)
		return
	}
	n.answer = acquireScript.EvalSha(ctx, p, []string{n.set}, n.args...)
}

// NoScript reports whether Redis answered that it had lost the script: the
// count did not run, and must be queued again whole.
func (n *Counting) NoScript() bool {
	return n.answer != nil && redis.HasErrorPrefix(n.answer.Err(), "NOSCRIPT")
}

// errNotSent is the Result of a count that was never queued.
var errNotSent = errors.New("count never sent")

// Result is the count's outcome, as Acquire returns it.
func (n *Counting) Result() (release func(context.Context) error, err error) {
	if n.answer == nil {
		return noRelease, fmt.Errorf("acquire %s connection for %s: %w", n.c.name, n.key, errNotSent)
	}
	ok, err := n.answer.Int()
	if err == nil && ok == 0 {
		return noRelease, fmt.Errorf("acquire %s connection for %s: %w", n.c.name, n.key, ErrTooManyConns)
	}
	release = n.c.releaser(n.key, n.seq)
	if err != nil {
		return release, fmt.Errorf("acquire %s connection for %s: %w", n.c.name, n.key, err)
	}
	return release, nil
}

// appendAlive appends the cutoff before which a connection counts only if
// its node is alive, then the nodes whose lease had not ended at now, as the
// last Refresh heard, this node always among them. Without a recent Refresh
// the cutoff is 0, before every connection: a node that does not know who
// is alive takes nobody's connections for a dead node's.
func (c *Conns) appendAlive(args []any, now time.Time) []any {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.heardAt.IsZero() || now.Sub(c.heardAt) >= c.TTL/2 {
		return append(args, 0, c.node)
	}
	args = append(args, now.Add(-c.TTL).UnixMilli(), c.node)
	for node, ends := range c.alive {
		if node != c.node && ends > now.UnixMilli() {
			args = append(args, node)
		}
	}
	return args
}

func noRelease(context.Context) error { return nil }

// setOf is the sorted set key's connections are counted in.
func (c *Conns) setOf(key string) string { return keyPrefix + "conns:" + c.name + ":" + key }

// idOf is the id of the connection counted seq-th on this node.
func (c *Conns) idOf(seq uint64) string { return c.node + "-" + strconv.FormatUint(seq, 36) }

// place is one counted connection, for its release. Every held shopper
// keeps one for as long as its socket is open, so it keeps what its set and
// id are made from (the caller's key, which the caller keeps anyway, and a
// number) rather than the two strings: they are made again once, at the
// release (docs/performance.md, "Issue 21's levers, fifth session").
type place struct {
	c        *Conns
	key      string
	seq      uint64
	released atomic.Bool
}

func (c *Conns) releaser(key string, seq uint64) func(context.Context) error {
	return (&place{c: c, key: key, seq: seq}).release
}

// release takes the connection out of its key's set, the first time only,
// with the other releases of Conns.Gather.
func (p *place) release(ctx context.Context) error {
	if p.released.Swap(true) {
		return nil
	}
	c := p.c
	r := releaseOf{set: c.setOf(p.key), id: c.idOf(p.seq)}
	err := c.releasing.Do(ctx, allReleases, r, c.Gather, c.GatherMost, c.sendReleases)
	if err != nil && err == ctx.Err() { // a caller who stopped waiting: its release still goes with its batch
		return fmt.Errorf("release %s connection %s: %w", c.name, r.id, err)
	}
	return err
}

// Refresh renews this node's lease, which keeps all its connections
// counted, hears which nodes are alive, and sends again the releases that
// failed: one round trip, whatever the number of connections held. It does
// nothing until the node has counted a connection, so that no cap costs no
// Redis call.
func (c *Conns) Refresh(ctx context.Context) error {
	if !c.used.Load() {
		return nil
	}
	now := c.now()
	pipe := c.rdb.Pipeline()
	c.mu.Lock()
	retried := make([]string, 0, len(c.unreleased))
	for id, set := range c.unreleased {
		retried = append(retried, id)
		pipe.ZRem(ctx, set, id)
	}
	c.mu.Unlock()
	pipe.ZAdd(ctx, c.nodes, redis.Z{Score: float64(now.Add(c.TTL).UnixMilli()), Member: c.node})
	pipe.ZRemRangeByScore(ctx, c.nodes, "-inf", strconv.FormatInt(now.UnixMilli(), 10))
	alive := pipe.ZRangeWithScores(ctx, c.nodes, 0, -1)
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("renew the %s connection lease of node %s: %w", c.name, c.node, err)
	}
	heard := make(map[string]int64, len(alive.Val()))
	for _, z := range alive.Val() {
		if node, ok := z.Member.(string); ok {
			heard[node] = int64(z.Score)
		}
	}
	c.mu.Lock()
	c.alive, c.heardAt = heard, now
	for _, id := range retried {
		delete(c.unreleased, id)
	}
	c.mu.Unlock()
	return nil
}
