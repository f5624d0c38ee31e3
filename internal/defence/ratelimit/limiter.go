package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
)

// keyPrefix starts every rate key. redis_rate puts its own "rate:" before it,
// so the key in Redis reads rate:foyer:rl:<rule>:<key>.
const keyPrefix = "foyer:rl:"

// defaultTimeout is how long Allow and Acquire wait for Redis by default.
const defaultTimeout = 200 * time.Millisecond

// withTimeout bounds ctx by d, unless d is zero.
func withTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, d)
}

// Rule is one named limit, such as "join_ip": each key (an IP, a shopper) may
// make Rate requests per Period on average, and Burst at once after a quiet
// spell. It is enforced with GCRA, so the budget refills smoothly rather than
// all at once at a window's edge.
type Rule struct {
	Name string
	// Rate is how many requests a key may make per Period on average. Zero
	// disables the rule: it allows everything without asking Redis.
	Rate int
	// Period is the time Rate is counted over. Defaults to one second.
	Period time.Duration
	// Burst is how many requests a key may make at once. Defaults to Rate.
	Burst int
}

// Disabled reports whether the rule allows everything.
func (r Rule) Disabled() bool { return r.Rate <= 0 }

func (r Rule) limit() redis_rate.Limit {
	l := redis_rate.Limit{Rate: r.Rate, Burst: r.Burst, Period: r.Period}
	if l.Period <= 0 {
		l.Period = time.Second
	}
	if l.Burst <= 0 {
		l.Burst = l.Rate
	}
	return l
}

// Decision is the limiter's answer to one request.
type Decision struct {
	Rule    string
	Allowed bool
	// Remaining is how many more requests the key may make right now.
	Remaining int
	// RetryAfter is how long a refused key must wait; zero when allowed.
	RetryAfter time.Duration
}

// RetryAfterSeconds is RetryAfter rounded up to whole seconds (at least 1),
// for a Retry-After header.
func (d Decision) RetryAfterSeconds() int { return ceilSeconds(d.RetryAfter) }

// Err is nil for an allowed request and a *LimitedError for a refused one, so
// a caller can hand a refusal to the one table that maps errors to statuses.
func (d Decision) Err() error {
	if d.Allowed {
		return nil
	}
	return &LimitedError{Rule: d.Rule, RetryAfter: d.RetryAfter}
}

// Limiter enforces a set of named rules in Redis, shared by every node that
// talks to the same Redis.
type Limiter struct {
	gcra  *redis_rate.Limiter
	rules map[string]Rule
	// Timeout bounds how long Allow waits for Redis before it gives up and
	// allows, so an ailing Redis adds at most this to a request rather than the
	// client's retries (about 1.7s per call with go-redis's defaults when Redis
	// refuses connections). A Redis that accepts but never answers is bounded
	// by the client's ReadTimeout instead, unless the client has
	// ContextTimeoutEnabled. Zero leaves only the caller's context. Defaults to
	// 200ms, a hundred times a healthy call.
	Timeout time.Duration
}

// NewLimiter returns a limiter of rules, with the defaults documented on its
// fields. Names must be unique and not empty.
func NewLimiter(rdb redis.UniversalClient, rules ...Rule) (*Limiter, error) {
	l := &Limiter{gcra: redis_rate.NewLimiter(rdb), rules: make(map[string]Rule, len(rules)),
		Timeout: defaultTimeout}
	for _, r := range rules {
		switch {
		case r.Name == "":
			return nil, errors.New("rate limit rule without a name")
		case r.Rate < 0 || r.Burst < 0 || r.Period < 0:
			return nil, fmt.Errorf("rate limit rule %s: negative rate, burst or period", r.Name)
		}
		if _, dup := l.rules[r.Name]; dup {
			return nil, fmt.Errorf("rate limit rule %s given twice", r.Name)
		}
		l.rules[r.Name] = r
	}
	return l, nil
}

// Allow spends one request of key's budget under rule. A refusal is a
// Decision with Allowed false, and Decision.Err turns it into an ErrLimited.
//
// When Redis fails, or rule is unknown, the request is allowed and the error is
// returned beside it for the caller to log (the package's fail-open promise).
func (l *Limiter) Allow(ctx context.Context, rule, key string) (Decision, error) {
	allowed := Decision{Rule: rule, Allowed: true}
	r, ok := l.rules[rule]
	if !ok {
		return allowed, fmt.Errorf("allow %s: %w", rule, ErrUnknownRule)
	}
	if r.Disabled() {
		return allowed, nil
	}
	ctx, cancel := withTimeout(ctx, l.Timeout)
	defer cancel()
	res, err := l.gcra.Allow(ctx, keyPrefix+rule+":"+key, r.limit())
	if err != nil {
		return allowed, fmt.Errorf("allow %s: %w", rule, err)
	}
	if res.Allowed > 0 {
		allowed.Remaining = res.Remaining
		return allowed, nil
	}
	// redis_rate says -1 for "no need to wait"; a refusal always has a wait,
	// but never hand a negative one to a header.
	return Decision{Rule: rule, Remaining: res.Remaining, RetryAfter: max(res.RetryAfter, 0)}, nil
}
