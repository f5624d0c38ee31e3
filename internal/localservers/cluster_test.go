package localservers_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/foyerhq/foyer/internal/localservers"
)

// A started cluster has three primaries sharing every slot, each with a
// replica in sync; a primary killed mid-use fails over to its replica, which
// has every write WAIT saw replicated, and the killed node comes back as a
// replica.
func TestAClusterFailsOverAKilledPrimaryToItsReplicaWithWhatWasReplicated(t *testing.T) {
	c, err := localservers.StartCluster(t.Context(), localservers.ClusterOptions{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Error(err)
		}
	})
	if len(c.Nodes) != 6 {
		t.Fatalf("%d nodes, want 6", len(c.Nodes))
	}
	opts, err := redis.ParseClusterURL(c.URL())
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClusterClient(opts)
	t.Cleanup(func() { rdb.Close() })
	ctx := t.Context()

	// Keys spread over the three primaries.
	primaries := map[string]bool{}
	for i := range 30 {
		key := fmt.Sprintf("k%d", i)
		p, err := c.PrimaryOf(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		primaries[p.Addr] = true
	}
	if len(primaries) != 3 {
		t.Fatalf("30 keys land on %d primaries, want 3", len(primaries))
	}

	// A write its replica acknowledged (WAIT on the same connection, in one
	// pipeline to the key's primary) survives the primary's crash.
	primary, err := rdb.MasterForKey(ctx, "kept")
	if err != nil {
		t.Fatal(err)
	}
	var waited *redis.Cmd
	_, err = primary.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, "kept", "v", 0)
		waited = p.Do(ctx, "WAIT", 1, 5000)
		return nil
	})
	if err != nil || waited.Val() != int64(1) {
		t.Fatalf("SET then WAIT 1: %v replicas (%v), want 1", waited.Val(), err)
	}
	killed, err := c.KillPrimaryOf(ctx, "kept")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Await(ctx); err != nil {
		t.Fatal(err)
	}
	now, err := c.PrimaryOf(ctx, "kept")
	if err != nil {
		t.Fatal(err)
	}
	if now == killed {
		t.Fatalf("%s still serves kept after it was killed", killed.Addr)
	}
	if v, err := getAfterFailover(t, rdb, "kept"); err != nil || v != "v" {
		t.Fatalf("after the failover kept = %q (%v), want \"v\"", v, err)
	}

	// The killed node rejoins as a replica; the cluster is whole again.
	if err := killed.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Await(ctx); err != nil {
		t.Fatal(err)
	}
	if p, err := c.PrimaryOf(ctx, "kept"); err != nil || p != now {
		t.Fatalf("after the restart kept is served by %v (%v), want %s", p, err, now.Addr)
	}
}

// getAfterFailover reads key once the client has found the primary that
// took over: until its next reload of the cluster's slots (which a failed
// command asks for) it sends commands to the dead node.
func getAfterFailover(t *testing.T, rdb *redis.ClusterClient, key string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	for {
		v, err := rdb.Get(ctx, key).Result()
		if err == nil || errors.Is(err, redis.Nil) || ctx.Err() != nil {
			return v, err
		}
		rdb.ReloadState(ctx)
		select {
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond):
		}
	}
}
