package ratelimit

import (
	"context"
	"errors"
	"fmt"
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

// refresh renews each node's lease, as each node's heartbeat does.
func refresh(t *testing.T, nodes ...*Conns) {
	t.Helper()
	for _, n := range nodes {
		if err := n.Refresh(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
}

func TestADeadNodesConnectionsStopCountingAfterTTL(t *testing.T) {
	r := testenv.NewRedis(t)
	c := newClock()
	dead := newNode(t, testenv.RedisClient(t, r), c)
	alive := newNode(t, testenv.RedisClient(t, r), c)
	mustAcquire(t, dead, "203.0.113.7", 2)
	mustAcquire(t, dead, "203.0.113.7", 2)
	mustAcquire(t, alive, "198.51.100.1", 1) // alive has counted one: it renews its lease
	refresh(t, dead, alive)                  // dead's last heartbeat

	for range 2 { // alive's heartbeats go on
		c.advance(dead.TTL / 3)
		refresh(t, alive)
	}
	c.advance(dead.TTL/3 - time.Second)
	refused(t, alive, "203.0.113.7", 2)
	// dead's lease ends a second before alive's next heartbeat, which needs
	// no news of dead to stop counting its connections.
	c.advance(time.Second)
	refresh(t, alive)
	c.advance(time.Second)
	mustAcquire(t, alive, "203.0.113.7", 2)
	mustAcquire(t, alive, "203.0.113.7", 2)
	refused(t, alive, "203.0.113.7", 2)
}

// A node that has not heard lately who is alive (it has just started, or its
// heartbeats failed) must not take a live node's connections for a dead
// node's: it would let a key past its cap, and the connections it took out
// would never count again.
func TestANodeThatHasNotHeardWhoIsAliveTakesNoConnectionOut(t *testing.T) {
	r := testenv.NewRedis(t)
	c := newClock()
	holder := newNode(t, testenv.RedisClient(t, r), c)
	mustAcquire(t, holder, "203.0.113.7", 1)
	stale := newNode(t, testenv.RedisClient(t, r), c)
	mustAcquire(t, stale, "198.51.100.1", 1)
	refresh(t, holder, stale)
	for range 4 { // only the holder's heartbeats get through
		c.advance(holder.TTL / 3)
		refresh(t, holder)
	}
	refused(t, stale, "203.0.113.7", 1)

	blind := newNode(t, testenv.RedisClient(t, r), c) // started now: no Refresh yet
	refused(t, blind, "203.0.113.7", 1)
}

// A release that fails (Redis away, or too slow) leaves the connection
// counted for as long as its node lives, unless it is sent again: the next
// Refresh does.
func TestAFailedReleaseIsSentAgainByTheNextRefresh(t *testing.T) {
	r := testenv.NewRedis(t)
	c := newClock()
	node := newNode(t, testenv.RedisClient(t, r), c)
	other := newNode(t, testenv.RedisClient(t, r), c)
	release := mustAcquire(t, node, "203.0.113.7", 1)
	gone, cancel := context.WithCancel(t.Context())
	cancel()
	if err := release(gone); err == nil {
		t.Fatal("a release that could not reach Redis reported no error")
	}
	refused(t, other, "203.0.113.7", 1)
	refresh(t, node)
	mustAcquire(t, other, "203.0.113.7", 1)
}

func TestRefreshKeepsALiveNodesConnectionsCounted(t *testing.T) {
	r := testenv.NewRedis(t)
	c := newClock()
	nodeA := newNode(t, testenv.RedisClient(t, r), c)
	nodeB := newNode(t, testenv.RedisClient(t, r), c)
	mustAcquire(t, nodeA, "203.0.113.7", 1)
	mustAcquire(t, nodeA, "203.0.113.8", 1)
	mustAcquire(t, nodeB, "198.51.100.1", 1)

	for range 5 { // five heartbeats span several TTLs
		c.advance(nodeA.TTL / 3)
		refresh(t, nodeA, nodeB)
	}
	c.advance(nodeA.TTL - time.Second)
	refused(t, nodeB, "203.0.113.7", 1)
	refused(t, nodeB, "203.0.113.8", 1)
}

// A node counts the connections of one it has not heard of yet, for as long
// as a node that just started takes to be heard: it is not taken for dead.
func TestANewNodesConnectionsCountBeforeOthersHearOfIt(t *testing.T) {
	r := testenv.NewRedis(t)
	c := newClock()
	old := newNode(t, testenv.RedisClient(t, r), c)
	mustAcquire(t, old, "198.51.100.1", 1)
	refresh(t, old)
	c.advance(old.TTL / 2)
	young := newNode(t, testenv.RedisClient(t, r), c)
	mustAcquire(t, young, "203.0.113.7", 1)
	c.advance(old.TTL - time.Second)
	refused(t, old, "203.0.113.7", 1)
}

// The heartbeat that keeps a node's connections counted costs the same
// whether it holds one connection or a thousand: what a node sends Redis
// while shoppers wait must not grow with their number.
func TestARefreshCostsTheSameWhateverTheConnectionsHeld(t *testing.T) {
	rdb := testenv.RedisClient(t, testenv.NewRedis(t))
	counter := &testenv.RedisCalls{}
	rdb.AddHook(counter)
	node := newNode(t, rdb, newClock())
	commandsOfRefresh := func() int64 {
		before := counter.Commands()
		refresh(t, node)
		return counter.Commands() - before
	}
	mustAcquire(t, node, "203.0.113.0", 1)
	refresh(t, node) // the first call may open a connection, which has commands of its own
	one := commandsOfRefresh()
	for i := range 1000 {
		mustAcquire(t, node, fmt.Sprintf("shopper:%d", i), 1)
	}
	if thousand := commandsOfRefresh(); thousand != one || one > 3 {
		t.Errorf("a refresh sent %d commands with one connection and %d with 1,001, want the same few", one, thousand)
	}
}

func TestNoCapAsksNothingOfRedis(t *testing.T) {
	rdb := testenv.RedisClient(t, testenv.NewRedis(t))
	counter := &testenv.RedisCalls{}
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
	if n := counter.Commands(); n != 0 {
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
	if err := node.Refresh(t.Context()); err == nil {
		t.Error("a refresh without Redis reported no error")
	}
}

// pipedCount sends one Count in a pipeline of its own, sending it again
// whole if Redis lost its script, as a caller's pipeline does.
func pipedCount(t *testing.T, rdb redis.UniversalClient, c *Conns, key string, limit int) (func(context.Context) error, error) {
	t.Helper()
	n := c.Count(key, limit)
	for _, whole := range []bool{false, true} {
		_, _ = rdb.Pipelined(t.Context(), func(p redis.Pipeliner) error {
			n.Queue(t.Context(), p, whole)
			return nil
		})
		if !n.NoScript() {
			break
		}
	}
	return n.Result()
}

// TestACountSentInAPipelineIsAnAcquire: a count that rides in a caller's
// pipeline takes a slot, is refused at the limit and is released, as
// Acquire's; one sent after Redis lost the script says so and counts once
// sent whole. No cap is no count.
func TestACountSentInAPipelineIsAnAcquire(t *testing.T) {
	rdb := testenv.RedisClient(t, testenv.NewRedis(t))
	node := newNode(t, rdb, newClock())
	if node.Count("203.0.113.7", 0) != nil {
		t.Error("a count with no cap")
	}
	if err := rdb.ScriptFlush(t.Context()).Err(); err != nil {
		t.Fatal(err)
	}
	n := node.Count("203.0.113.7", 1)
	_, _ = rdb.Pipelined(t.Context(), func(p redis.Pipeliner) error {
		n.Queue(t.Context(), p, false)
		return nil
	})
	if !n.NoScript() {
		t.Fatal("a count sent by hash after Redis lost its scripts did not say so")
	}
	_, _ = rdb.Pipelined(t.Context(), func(p redis.Pipeliner) error {
		n.Queue(t.Context(), p, true)
		return nil
	})
	release, err := n.Result()
	if err != nil || n.NoScript() {
		t.Fatalf("sent whole: %v", err)
	}
	if _, err := pipedCount(t, rdb, node, "203.0.113.7", 1); !errors.Is(err, ErrTooManyConns) {
		t.Fatalf("a second count at a limit of 1: %v, want ErrTooManyConns", err)
	}
	refused(t, node, "203.0.113.7", 1) // Acquire sees the piped count
	if err := release(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := pipedCount(t, rdb, node, "203.0.113.7", 1); err != nil {
		t.Fatalf("after the release: %v", err)
	}
}

// TestACountSentTwiceCountsOnce: go-redis sends a pipeline again after an
// answer it lost, and a count that ran the first time must not find its own
// slot taken: under a cap of one it would refuse its own connection. A count
// never sent is an error, not a panic.
func TestACountSentTwiceCountsOnce(t *testing.T) {
	rdb := testenv.RedisClient(t, testenv.NewRedis(t))
	node := newNode(t, rdb, newClock())
	n := node.Count("203.0.113.9", 1)
	for range 2 {
		if _, err := rdb.Pipelined(t.Context(), func(p redis.Pipeliner) error {
			n.Queue(t.Context(), p, true)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := n.Result(); err != nil {
		t.Fatalf("a count sent twice: %v", err)
	}
	refused(t, node, "203.0.113.9", 1)
	if _, err := node.Count("203.0.113.10", 1).Result(); !errors.Is(err, errNotSent) {
		t.Errorf("a count never sent: %v, want errNotSent", err)
	}
}
