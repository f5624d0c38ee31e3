package ratelimit

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/foyerhq/foyer/internal/testenv"
)

// The releases of connections closed together go in one round trip, and
// each frees its own place as a release alone did: every key takes a
// connection again at a limit of one.
func TestANodesReleasesAreSentTogetherAsEachAlone(t *testing.T) {
	const closing = 20
	rdb := testenv.RedisClient(t, testenv.NewRedis(t))
	node := newNode(t, rdb, newClock())
	releases := make([]func(context.Context) error, closing)
	for i := range releases {
		releases[i] = mustAcquire(t, node, fmt.Sprint("shopper-", i), 1)
	}
	trips := &testenv.RedisCalls{Only: []string{"zrem"}}
	rdb.AddHook(trips)
	releaseAtOnce(t, releases)
	// The gathering ends when its first release has waited Gather: a slow
	// start of the others' goroutines may make a second batch, never one each.
	if n := trips.Trips(); n > 2 {
		t.Errorf("%d connections released in %d round trips, want 1 (2 at most on a slow start)", closing, n)
	}
	for i := range closing {
		release := mustAcquire(t, node, fmt.Sprint("shopper-", i), 1)
		if err := release(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
}

// A batch full at GatherMost is sent at once, without waiting out Gather.
func TestAFullBatchOfReleasesIsSentAtOnce(t *testing.T) {
	rdb := testenv.RedisClient(t, testenv.NewRedis(t))
	node := newNode(t, rdb, newClock())
	node.Gather, node.GatherMost = 24*time.Hour, 3 // only a full batch is ever sent
	releases := make([]func(context.Context) error, 3)
	for i := range releases {
		releases[i] = mustAcquire(t, node, fmt.Sprint("shopper-", i), 1)
	}
	releaseAtOnce(t, releases)
	refused := 0
	for i := range releases {
		if _, err := node.Acquire(t.Context(), fmt.Sprint("shopper-", i), 1); err != nil {
			refused++
		}
	}
	if refused != 0 {
		t.Errorf("%d of 3 places still held after their full batch was sent", refused)
	}
}

// releaseAtOnce runs every release at the same moment, as sockets closing
// together do, and returns once all are sent.
func releaseAtOnce(t *testing.T, releases []func(context.Context) error) {
	t.Helper()
	var wg sync.WaitGroup
	for _, release := range releases {
		wg.Go(func() {
			if err := release(t.Context()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
}
