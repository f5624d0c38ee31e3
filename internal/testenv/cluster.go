package testenv

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/foyerhq/foyer/internal/localservers"
)

// Cluster returns the package's shared Redis Cluster (three primaries with a
// replica each), starting it on first use; Main stops it. Its tests share
// its keys: each keeps to sales of its own. A test that kills or stops
// nodes takes a cluster of its own (NewCluster).
func Cluster(t testing.TB) *localservers.Cluster {
	t.Helper()
	shared.clusterOnce.Do(func() {
		// Not t.TempDir: the cluster outlives this test.
		if shared.clusterDir, shared.clusterErr = os.MkdirTemp("", "foyer-testenv-cluster-"); shared.clusterErr != nil {
			return
		}
		shared.cluster, shared.clusterErr = localservers.StartCluster(t.Context(),
			localservers.ClusterOptions{Dir: shared.clusterDir})
	})
	if shared.clusterErr != nil {
		t.Fatalf("testenv: shared Redis Cluster: %v", shared.clusterErr)
	}
	return shared.cluster
}

// NewCluster starts a Redis Cluster (three primaries with a replica each)
// for this test alone, in t.TempDir(), and stops it when the test ends.
func NewCluster(t testing.TB, opts localservers.ClusterOptions) *localservers.Cluster {
	t.Helper()
	opts.Dir = t.TempDir()
	c, err := localservers.StartCluster(t.Context(), opts)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Errorf("testenv: %v", err)
		}
	})
	return c
}

// ClusterClient returns a cluster client of c, closed when the test ends.
func ClusterClient(t testing.TB, c *localservers.Cluster) *redis.ClusterClient {
	t.Helper()
	// A map of slots a second old at most, as Foyer's own (internal/app):
	// after a failover the test reads the primary that took over.
	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs(), ClusterStateReloadInterval: time.Second})
	t.Cleanup(func() { rdb.Close() })
	return rdb
}

// FreshCluster returns the package's shared Redis Cluster emptied for this
// test (FLUSHALL on every primary), for a package whose tests run one at a
// time and share global keys (the order streams, the active sales): what
// an earlier test left must not be taken for this one's.
func FreshCluster(t testing.TB) *localservers.Cluster {
	t.Helper()
	c := Cluster(t)
	rdb := ClusterClient(t, c)
	err := rdb.ForEachMaster(t.Context(), func(ctx context.Context, node *redis.Client) error {
		return node.FlushAll(ctx).Err()
	})
	if err != nil {
		t.Fatalf("testenv: empty the shared Redis Cluster: %v", err)
	}
	return c
}
