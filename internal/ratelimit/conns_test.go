package ratelimit

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/foyerhq/foyer/internal/testenv"
)

// clock is a time that tests move by hand, shared by the nodes of a test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now()} }

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// newNode returns the connection cap of one gateway node, on the test's clock.
func newNode(t *testing.T, rdb redis.UniversalClient, c *clock) *Conns {
	t.Helper()
	n := NewConns(rdb, "ws_ip")
	n.now = c.now
	n.Timeout = 10 * time.Second // a slow moment must not fail a call open
	return n
}

// mustAcquire takes a slot that the test expects to get.
func mustAcquire(t *testing.T, c *Conns, key string, limit int) func(context.Context) error {
	t.Helper()
	release, err := c.Acquire(t.Context(), key, limit)
	if err != nil {
		t.Fatalf("acquire %s (limit %d): %v", key, limit, err)
	}
	return release
}

// refused checks that key is at its limit for node c.
func refused(t *testing.T, c *Conns, key string, limit int) {
	t.Helper()
	release, err := c.Acquire(t.Context(), key, limit)
	if !errors.Is(err, ErrTooManyConns) {
		t.Fatalf("acquire %s over its limit of %d: err = %v, want ErrTooManyConns", key, limit, err)
	}
	if err := release(t.Context()); err != nil {
		t.Errorf("releasing a refused connection: %v", err)
	}
}

func TestAKeyAtItsLimitIsRefusedUntilASlotIsReleased(t *testing.T) {
	node := newNode(t, testenv.RedisClient(t, testenv.NewRedis(t)), newClock())
	first := mustAcquire(t, node, "203.0.113.7", 2)
	mustAcquire(t, node, "203.0.113.7", 2)
	refused(t, node, "203.0.113.7", 2)
	mustAcquire(t, node, "203.0.113.8", 2) // another key has its own slots

	if err := first(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := first(t.Context()); err != nil { // twice is harmless
		t.Fatal(err)
	}
	mustAcquire(t, node, "203.0.113.7", 2)
	refused(t, node, "203.0.113.7", 2)
}

func TestTwoNodesShareOneCap(t *testing.T) {
	r := testenv.NewRedis(t)
	c := newClock()
	nodeA := newNode(t, testenv.RedisClient(t, r), c)
	nodeB := newNode(t, testenv.RedisClient(t, r), c)
	mustAcquire(t, nodeA, "shopper-1", 2)
	mustAcquire(t, nodeB, "shopper-1", 2)
	refused(t, nodeA, "shopper-1", 2)
	refused(t, nodeB, "shopper-1", 2)
}

func TestADeadNodesConnectionsStopCountingAfterTTL(t *testing.T) {
	r := testenv.NewRedis(t)
	c := newClock()
	dead := newNode(t, testenv.RedisClient(t, r), c)
	alive := newNode(t, testenv.RedisClient(t, r), c)
	mustAcquire(t, dead, "203.0.113.7", 2)
	mustAcquire(t, dead, "203.0.113.7", 2)

	c.advance(dead.TTL - time.Second)
	refused(t, alive, "203.0.113.7", 2)
	c.advance(2 * time.Second) // the dead node never refreshed
	mustAcquire(t, alive, "203.0.113.7", 2)
	mustAcquire(t, alive, "203.0.113.7", 2)
	refused(t, alive, "203.0.113.7", 2)
}

func TestRefreshKeepsALiveNodesConnectionsCounted(t *testing.T) {
	r := testenv.NewRedis(t)
	c := newClock()
	nodeA := newNode(t, testenv.RedisClient(t, r), c)
	nodeB := newNode(t, testenv.RedisClient(t, r), c)
	mustAcquire(t, nodeA, "203.0.113.7", 1)
	mustAcquire(t, nodeA, "203.0.113.8", 1)

	for range 5 { // five heartbeats span several TTLs
		c.advance(nodeA.TTL / 3)
		if err := nodeA.Refresh(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	c.advance(nodeA.TTL - time.Second)
	refused(t, nodeB, "203.0.113.7", 1)
	refused(t, nodeB, "203.0.113.8", 1)
}

func TestARefreshDoesNotBringBackAReleasedConnection(t *testing.T) {
	rdb := testenv.RedisClient(t, testenv.NewRedis(t))
	node := newNode(t, rdb, newClock())
	release := mustAcquire(t, node, "203.0.113.7", 1)
	// What a Refresh racing the release would send once the release is done.
	node.mu.Lock()
	snapshot := map[string]string{}
	for id, set := range node.live {
		snapshot[id] = set
	}
	node.mu.Unlock()
	if err := release(t.Context()); err != nil {
		t.Fatal(err)
	}
	node.mu.Lock()
	node.live = snapshot
	node.mu.Unlock()
	if err := node.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := rdb.ZCard(t.Context(), "foyer:rl:conns:ws_ip:203.0.113.7").Val(); n != 0 {
		t.Errorf("after release and refresh the key holds %d connections, want 0", n)
	}
}

func TestNoCapAsksNothingOfRedis(t *testing.T) {
	rdb := testenv.RedisClient(t, testenv.NewRedis(t))
	counter := &commandCounter{}
	rdb.AddHook(counter)
	node := newNode(t, rdb, newClock())
	for range 10 {
		release := mustAcquire(t, node, "203.0.113.7", 0)
		if err := release(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if err := node.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := counter.n.Load(); n != 0 {
		t.Errorf("uncapped connections sent %d commands to Redis", n)
	}
}

func TestWithoutRedisConnectionsAreLetThroughAndTheErrorReported(t *testing.T) {
	r := testenv.NewRedis(t)
	node := newNode(t, testenv.RedisClient(t, r), newClock())
	node.Timeout = defaultTimeout
	if err := r.Stop(); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		release, err := node.Acquire(t.Context(), "203.0.113.7", 1)
		if err == nil || errors.Is(err, ErrTooManyConns) {
			t.Fatalf("err = %v, want Redis's error to log", err)
		}
		if release == nil {
			t.Fatal("release is nil")
		}
		ctx, cancel := context.WithTimeout(t.Context(), defaultTimeout)
		if err := release(ctx); err == nil {
			t.Error("release without Redis reported no error")
		}
		cancel()
	}
	if err := node.Refresh(t.Context()); err != nil {
		t.Errorf("refresh with nothing left to refresh: %v", err)
	}
}
