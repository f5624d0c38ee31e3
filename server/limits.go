package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/foyerhq/foyer/internal/defence/ratelimit"
)

// The rate limits, by the name of their rule. All hold across nodes: they
// are counted in Redis (GCRA). Each allows twice its rate in a burst.
const (
	RuleIPRequests       = "ip_requests"       // every HTTP request, per client IP
	RuleIPSessions       = "ip_sessions"       // new sessions, per client IP
	RuleIPConnects       = "ip_connects"       // shopper WebSockets opened, per client IP
	RuleIPJoins          = "ip_joins"          // joins, per client IP
	RuleShopperMessages  = "shopper_messages"  // join, leave and resume messages, per shopper
	RuleShopperCheckouts = "shopper_checkouts" // checkout requests, per shopper (the token's subject)
)

// Pings and clock syncs are answered by the node alone, touching no shared
// state, so they are limited per connection in memory instead of in Redis:
// a Redis call per keepalive would grow with the number of shoppers.
const (
	localMessages = 10               // at most this many pings and time requests
	localWindow   = 10 * time.Second // per window this long
)

// Limits are the gateway's defences against floods. A zero rate or cap
// turns that one off.
type Limits struct {
	IPRequests, IPSessions, IPConnects, IPJoins, ShopperMessages, ShopperCheckouts int // per second
	// ConnsPerIP and ConnsPerShopper cap the WebSockets open at once, over
	// every node: several tabs of one shopper share one place, a hundred
	// sockets from one address do not.
	ConnsPerIP, ConnsPerShopper int
	// MaxConnections and MaxJoinsPerSecond are this node's own ceilings:
	// past them new arrivals are told to come back (busy) rather than slow
	// everyone down.
	MaxConnections, MaxJoinsPerSecond int
	// IPLogins and AccountLogins are operator sign-ins per minute, per
	// client IP and per account named (accounts.go); each allows its rate
	// at once in a burst.
	IPLogins, AccountLogins int
}

// Rules are the rate rules of l, for ratelimit.NewLimiter.
func (l Limits) Rules() []ratelimit.Rule {
	rule := func(name string, perSecond int) ratelimit.Rule {
		return ratelimit.Rule{Name: name, Rate: perSecond, Burst: 2 * perSecond}
	}
	return []ratelimit.Rule{
		rule(RuleIPRequests, l.IPRequests),
		rule(RuleIPSessions, l.IPSessions),
		rule(RuleIPConnects, l.IPConnects),
		rule(RuleIPJoins, l.IPJoins),
		rule(RuleShopperMessages, l.ShopperMessages),
		rule(RuleShopperCheckouts, l.ShopperCheckouts),
		{Name: RuleIPLogins, Rate: l.IPLogins, Period: time.Minute, Burst: l.IPLogins},
		{Name: RuleAccountLogins, Rate: l.AccountLogins, Period: time.Minute, Burst: l.AccountLogins},
	}
}

// RateLimiter decides whether a key may go on under a rule.
type RateLimiter interface {
	Allow(ctx context.Context, rule, key string) (ratelimit.Decision, error)
}

// ConnCounter counts open connections per key over every node.
type ConnCounter interface {
	Acquire(ctx context.Context, key string, limit int) (release func(context.Context) error, err error)
	// Count is Acquire sent in a pipeline of the caller's; nil for no cap.
	Count(key string, limit int) *ratelimit.Counting
}

// errBusy is a node past its own ceiling; retryAfter says when to come back.
var errBusy = errors.New("busy")

// busyError is errBusy with when to retry.
type busyError struct{ retryAfter int }

func (e busyError) Error() string {
	return fmt.Sprintf("busy: this node is at its ceiling, retry in %d s", e.retryAfter)
}
func (e busyError) Is(target error) bool { return target == errBusy }

// retryAfterOf is how many seconds the client should wait before trying
// again after err, or 0 when err does not say.
func retryAfterOf(err error) int {
	var busy busyError
	if errors.As(err, &busy) {
		return busy.retryAfter
	}
	if d, ok := ratelimit.RetryAfter(err); ok {
		return wholeSeconds(d)
	}
	if errors.Is(unavailableIf(err), errUnavailable) {
		return unavailableRetryAfter
	}
	return 0
}

// allow checks key against a rate rule. A refusal is returned as the
// error to tell the client; a limiter that cannot reach Redis lets the
// request through (and is logged): it must not take the sale down with it.
func (s *Server) allow(ctx context.Context, rule, key string) error {
	if s.deps.Limiter == nil {
		return nil
	}
	d, err := s.deps.Limiter.Allow(ctx, rule, key)
	if err != nil {
		s.warnEvery10s(&s.limiterWarned, "rate limiter unavailable, letting requests through", "rule", rule, "err", err)
	}
	return d.Err()
}

// limitRequests is the per-IP limit on every HTTP request but the probes
// of the infrastructure (health and readiness; metrics are on the ops port).
func (s *Server) limitRequests(c *gin.Context) {
	switch c.Request.URL.Path {
	case "/healthz", "/readyz":
		c.Next()
		return
	}
	if isStreamPost(c.Request) {
		c.Next() // limited as a socket's messages are, and charged here only when refused (sse_post.go)
		return
	}
	if err := s.allow(c.Request.Context(), RuleIPRequests, c.ClientIP()); err != nil {
		s.fail(c, err)
		c.Abort()
		return
	}
	c.Next()
}

// clientAddr is the client's IP as gin sees it (behind trusted proxies,
// from X-Forwarded-For); the zero Addr when it cannot be read.
func clientAddr(c *gin.Context) netip.Addr {
	addr, err := netip.ParseAddr(c.ClientIP())
	if err != nil {
		return netip.Addr{}
	}
	return addr.Unmap()
}

// setRetryAfter adds the Retry-After header an error asks for.
func setRetryAfter(w http.ResponseWriter, err error) {
	if n := retryAfterOf(err); n > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(n))
	}
}

// admitSocket runs the checks a shopper's WebSocket must pass before it is
// opened, cheapest first, and takes its places under the connection caps.
// known says whether the shopper's session was valid. release gives the
// places back.
func (s *Server) admitSocket(c *gin.Context, shopper string, known bool) (release func(), err error) {
	ctx := c.Request.Context()
	if err := s.admitConnection(); err != nil {
		return nil, err
	}
	ip := c.ClientIP()
	if known {
		if err := s.blocked(clientAddr(c), shopper); err != nil {
			return nil, err
		}
	}
	if err := s.allow(ctx, RuleIPConnects, ip); err != nil {
		return nil, err
	}
	releaseIP, err := s.acquireConn(ctx, "ip:"+ip, s.cfg.Limits.ConnsPerIP)
	if err != nil || !known {
		return releaseIP, err
	}
	releaseShopper, err := s.acquireConn(ctx, shopperConnKey(shopper), s.cfg.Limits.ConnsPerShopper)
	if err != nil {
		releaseIP()
		return nil, err
	}
	return both(releaseShopper, releaseIP), nil
}

// both returns a release that runs first, then then; a nil one is nothing
// to release, and costs the held socket no closure.
func both(first, then func()) func() {
	switch {
	case first == nil:
		return then
	case then == nil:
		return first
	}
	return func() { first(); then() }
}

// acquireConn takes a place for key under a cap of limit open connections.
// Only a full cap refuses; a counter that cannot reach Redis lets the
// connection through.
func (s *Server) acquireConn(ctx context.Context, key string, limit int) (release func(), err error) {
	if s.deps.Conns == nil || limit <= 0 {
		return func() {}, nil
	}
	give, err := s.deps.Conns.Acquire(ctx, key, limit)
	return s.counted(key, give, err)
}

// counted turns a connection counter's answer into the connection's
// release, or the refusal of a full cap. Only a full cap refuses.
func (s *Server) counted(key string, give func(context.Context) error, err error) (release func(), _ error) {
	if errors.Is(err, ratelimit.ErrTooManyConns) {
		return nil, err
	}
	if err != nil {
		s.warnEvery10s(&s.countWarned, "connection counter unavailable, letting connections through", "err", err)
	}
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if err := give(ctx); err != nil {
			s.deps.Log.Warn("give back a connection place", "key", key, "err", err)
		}
	}, nil
}

// localBudget limits the messages a connection's node answers alone (see
// localMessages): a fixed window, two words per connection.
type localBudget struct {
	windowStart time.Time
	used        int
}

// take spends one message of the budget, or says how long until the next
// window.
func (b *localBudget) take(now time.Time) error {
	if now.Sub(b.windowStart) >= localWindow {
		b.windowStart, b.used = now, 0
	}
	if b.used >= localMessages {
		wait := localWindow - now.Sub(b.windowStart)
		return &ratelimit.LimitedError{Rule: "connection_messages", RetryAfter: wait}
	}
	b.used++
	return nil
}

// warnEvery10s logs a warning at most once every ten seconds per kind
// (last holds when it was last logged): during a Redis outage every request
// would otherwise log one.
func (s *Server) warnEvery10s(last *atomic.Int64, msg string, args ...any) {
	now := time.Now().Unix()
	if prev := last.Load(); now-prev >= 10 && last.CompareAndSwap(prev, now) {
		s.deps.Log.Warn(msg, args...)
	}
}

// muted reports whether a refusal by a rate limit is to be dropped rather
// than told: a connection is told rate_limited once, then the messages it
// sends over the limit until the wait it was told has passed are dropped,
// never queued. Answering each of a burst of a thousand pings with a
// refusal would fill the connection's queue (sendBuffer) and cut off a
// client that reads all the while. Other errors are always told.
func (ss *session) muted(err error, now time.Time) bool {
	if !errors.Is(err, ratelimit.ErrLimited) {
		return false
	}
	if now.Before(ss.mutedUntil) {
		return true
	}
	wait, _ := ratelimit.RetryAfter(err)
	ss.mutedUntil = now.Add(max(wait, time.Second))
	return false
}
