package ratelimit

import (
	"errors"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/foyerhq/foyer/internal/testenv"
)

// joinIP refills one request a minute, so no test sees it refill while it runs.
var joinIP = Rule{Name: "join_ip", Rate: 1, Period: time.Minute, Burst: 3}

func newLimiter(t *testing.T, rdb redis.UniversalClient, rules ...Rule) *Limiter {
	t.Helper()
	l, err := NewLimiter(rdb, rules...)
	if err != nil {
		t.Fatal(err)
	}
	// A slow moment on a busy test machine must not fail a call open.
	l.Timeout = 10 * time.Second
	return l
}

// allowedOf spends n requests of key and counts how many were allowed.
func allowedOf(t *testing.T, l *Limiter, rule, key string, n int) int {
	t.Helper()
	allowed := 0
	for range n {
		d, err := l.Allow(t.Context(), rule, key)
		if err != nil {
			t.Fatal(err)
		}
		if d.Allowed {
			allowed++
		}
	}
	return allowed
}

func TestABurstIsAllowedThenRefusedWithAWait(t *testing.T) {
	l := newLimiter(t, testenv.RedisClient(t, testenv.NewRedis(t)), joinIP)
	if got := allowedOf(t, l, "join_ip", "203.0.113.7", joinIP.Burst); got != joinIP.Burst {
		t.Fatalf("allowed %d of a burst of %d", got, joinIP.Burst)
	}
	d, err := l.Allow(t.Context(), "join_ip", "203.0.113.7")
	if err != nil {
		t.Fatal(err)
	}
	if d.Allowed {
		t.Fatal("the request after the burst was allowed")
	}
	if d.RetryAfter <= 0 || d.RetryAfter > joinIP.Period {
		t.Errorf("RetryAfter = %v, want within (0, %v]", d.RetryAfter, joinIP.Period)
	}
	if s := d.RetryAfterSeconds(); s < 1 || time.Duration(s)*time.Second < d.RetryAfter {
		t.Errorf("RetryAfterSeconds = %d for %v: must round up", s, d.RetryAfter)
	}

	err = d.Err()
	if !errors.Is(err, ErrLimited) {
		t.Fatalf("Err() = %v, want ErrLimited", err)
	}
	if wait, ok := RetryAfter(err); !ok || wait != d.RetryAfter {
		t.Errorf("RetryAfter(err) = %v, %v; want %v, true", wait, ok, d.RetryAfter)
	}
}

func TestTwoNodesShareOneBudget(t *testing.T) {
	r := testenv.NewRedis(t)
	nodeA := newLimiter(t, testenv.RedisClient(t, r), joinIP)
	nodeB := newLimiter(t, testenv.RedisClient(t, r), joinIP)
	allowed := 0
	for i := range 2 * joinIP.Burst {
		node := nodeA
		if i%2 == 1 {
			node = nodeB
		}
		allowed += allowedOf(t, node, "join_ip", "203.0.113.7", 1)
	}
	if allowed != joinIP.Burst {
		t.Errorf("two nodes allowed %d requests together, want one budget of %d", allowed, joinIP.Burst)
	}
}

func TestKeysAndRulesHaveTheirOwnBudgets(t *testing.T) {
	joinShopper := Rule{Name: "join_shopper", Rate: 1, Period: time.Minute, Burst: 2}
	l := newLimiter(t, testenv.RedisClient(t, testenv.NewRedis(t)), joinIP, joinShopper)
	allowedOf(t, l, "join_ip", "203.0.113.7", joinIP.Burst+1) // used up
	if got := allowedOf(t, l, "join_ip", "203.0.113.8", joinIP.Burst); got != joinIP.Burst {
		t.Errorf("another IP got %d of its %d", got, joinIP.Burst)
	}
	if got := allowedOf(t, l, "join_shopper", "203.0.113.7", joinShopper.Burst); got != joinShopper.Burst {
		t.Errorf("the same key under another rule got %d of its %d", got, joinShopper.Burst)
	}
}

func TestADisabledRuleAllowsWithoutAskingRedis(t *testing.T) {
	rdb := testenv.RedisClient(t, testenv.NewRedis(t))
	counter := &testenv.RedisCalls{}
	rdb.AddHook(counter)
	l := newLimiter(t, rdb, Rule{Name: "join_ip"}, Rule{Name: "checkout", Rate: 0, Burst: 5})
	for _, rule := range []string{"join_ip", "checkout"} {
		if got := allowedOf(t, l, rule, "203.0.113.7", 100); got != 100 {
			t.Errorf("disabled rule %s allowed %d of 100", rule, got)
		}
	}
	if n := counter.Commands(); n != 0 {
		t.Errorf("disabled rules sent %d commands to Redis", n)
	}
}

func TestWithoutRedisRequestsAreAllowedAndTheErrorReported(t *testing.T) {
	r := testenv.NewRedis(t)
	l := newLimiter(t, testenv.RedisClient(t, r), joinIP)
	l.Timeout = defaultTimeout
	if err := r.Stop(); err != nil {
		t.Fatal(err)
	}
	for range joinIP.Burst + 1 {
		start := time.Now()
		d, err := l.Allow(t.Context(), "join_ip", "203.0.113.7")
		if took := time.Since(start); took > l.Timeout+time.Second {
			t.Errorf("Allow took %v without Redis, want about its Timeout of %v", took, l.Timeout)
		}
		if !d.Allowed {
			t.Fatal("a request was refused while Redis was down")
		}
		if err == nil || errors.Is(err, ErrLimited) {
			t.Fatalf("err = %v, want Redis's error to log", err)
		}
	}
}

func TestAnUnknownRuleIsAllowedAndReported(t *testing.T) {
	l := newLimiter(t, testenv.RedisClient(t, testenv.NewRedis(t)), joinIP)
	d, err := l.Allow(t.Context(), "jion_ip", "203.0.113.7")
	if !d.Allowed || !errors.Is(err, ErrUnknownRule) {
		t.Errorf("Allow(unknown rule) = %+v, %v; want allowed and ErrUnknownRule", d, err)
	}
}

func TestNewLimiterRejectsBadRules(t *testing.T) {
	for name, rules := range map[string][]Rule{
		"no name":       {{Rate: 1}},
		"negative rate": {{Name: "a", Rate: -1}},
		"twice":         {{Name: "a", Rate: 1}, {Name: "a", Rate: 2}},
	} {
		if _, err := NewLimiter(nil, rules...); err == nil {
			t.Errorf("%s: NewLimiter accepted %+v", name, rules)
		}
	}
}

func TestTheKeyInRedisNamesRuleAndKey(t *testing.T) {
	rdb := testenv.RedisClient(t, testenv.NewRedis(t))
	allowedOf(t, newLimiter(t, rdb, joinIP), "join_ip", "203.0.113.7", 1)
	keys, err := rdb.Keys(t.Context(), "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	// redis_rate adds its own "rate:" in front.
	if want := "rate:foyer:rl:join_ip:203.0.113.7"; len(keys) != 1 || keys[0] != want {
		t.Errorf("keys = %q, want [%q]", keys, want)
	}
}
