package app

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/foyerhq/foyer/internal/testenv"
	"github.com/foyerhq/foyer/server"
)

// On a Redis Cluster every server's persistence is read, and one primary
// that could lose a write stops the checkouts, whichever node a reading
// happened to reach last: the node kept one reading for the whole cluster
// before, so the last server read won, and a primary with appendfsync
// everysec among durable ones was held against it only now and then.
func TestACheckoutIsRefusedWhileAnyServerOfTheClusterCouldLoseIt(t *testing.T) {
	ctx := context.Background()
	c := testenv.FreshCluster(t)
	rdb := testenv.ClusterClient(t, c)
	// ForEachMaster runs its function on every primary at once.
	var mu sync.Mutex
	var primaries []*redis.Client
	if err := rdb.ForEachMaster(ctx, func(_ context.Context, node *redis.Client) error {
		mu.Lock()
		defer mu.Unlock()
		primaries = append(primaries, node)
		return nil
	}); err != nil || len(primaries) != 3 {
		t.Fatalf("%d primaries (%v), want 3", len(primaries), err)
	}
	// Every server durable (the package's cluster runs without the AOF),
	// then one primary that could lose a second of writes. Each server is
	// set by its address: the cluster client's list of them may not hold
	// every replica yet.
	set := func(args ...string) {
		t.Helper()
		for _, addr := range c.Addrs() {
			node := redis.NewClient(&redis.Options{Addr: addr})
			err := node.ConfigSet(ctx, args[0], args[1]).Err()
			if len(args) > 2 && err == nil {
				err = node.ConfigSet(ctx, args[2], args[3]).Err()
			}
			node.Close()
			if err != nil {
				t.Fatalf("config set on %s: %v", addr, err)
			}
		}
	}
	set("appendonly", "yes", "appendfsync", "always")
	t.Cleanup(func() { set("appendonly", "no") }) // as the package's other tests found it
	lax := primaries[0]
	if err := lax.ConfigSet(ctx, "appendfsync", "everysec").Err(); err != nil {
		t.Fatal(err)
	}

	d := newDurability(false, true, slog.New(slog.NewTextHandler(io.Discard, nil)))
	for range 10 {
		d.check(ctx, rdb)
		if err := d.refusal(); !errors.Is(err, server.ErrNotDurable) {
			t.Fatalf("with %s at appendfsync everysec: refusal %v, want ErrNotDurable", lax, err)
		}
	}
	if failed, reason, _ := d.report(); !failed || !strings.Contains(reason, "appendfsync is everysec on "+lax.String()) {
		t.Errorf("report: failed %v, %q; want it to name %s", failed, reason, lax)
	}

	if err := lax.ConfigSet(ctx, "appendfsync", "always").Err(); err != nil {
		t.Fatal(err)
	}
	d.check(ctx, rdb)
	if err := d.refusal(); err != nil {
		_, reason, _ := d.report()
		t.Errorf("every server durable again: refusal %v (%s), want none", err, reason)
	}
}
