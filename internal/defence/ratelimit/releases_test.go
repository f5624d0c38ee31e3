package ratelimit

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/foyerhq/foyer/internal/testenv"
)

// roundTrips counts the round trips of ZREMs a client makes: a command
// alone or a pipeline, one each. A new connection's own handshake (HELLO,
// CLIENT SETINFO) is not counted.
type roundTrips struct{ n atomic.Int64 }

func (r *roundTrips) DialHook(next redis.DialHook) redis.DialHook { return next }

func (r *roundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if cmd.Name() == "zrem" {
			r.n.Add(1)
		}
		return next(ctx, cmd)
	}
}

func (r *roundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if cmds[0].Name() == "zrem" {
			r.n.Add(1)
		}
		return next(ctx, cmds)
	}
}

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
	trips := &roundTrips{}
	rdb.AddHook(trips)
	var wg sync.WaitGroup
	for _, release := range releases {
		wg.Go(func() {
			if err := release(t.Context()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	// The gathering ends when its first release has waited Gather: a slow
	// start of the others' goroutines may make a second batch, never one each.
	if n := trips.n.Load(); n > 2 {
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
	var wg sync.WaitGroup
	for _, release := range releases {
		wg.Go(func() {
			if err := release(t.Context()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
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
