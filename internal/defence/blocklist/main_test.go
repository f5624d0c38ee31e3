package blocklist

import (
	"context"
	"log/slog"
	"net/netip"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/foyerhq/foyer/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// startWatcher runs a node's watcher until the test ends and waits until it is
// ready.
func startWatcher(t *testing.T, rdb redis.UniversalClient, pollEvery time.Duration) *Watcher {
	t.Helper()
	w := NewWatcher(rdb, slog.New(slog.NewTextHandler(t.Output(), nil)))
	w.PollEvery = pollEvery
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx, nil) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("watcher: %v", err)
		}
	})
	select {
	case <-w.Ready():
	case <-time.After(5 * time.Second):
		t.Fatal("the watcher was not ready within 5s")
	}
	return w
}

// eventually fails the test unless cond holds within d, checking it often.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// twoNodes returns clients of one Redis for two nodes, A and B.
func twoNodes(t *testing.T) (a, b *redis.Client) {
	r := testenv.NewRedis(t)
	return testenv.RedisClient(t, r), testenv.RedisClient(t, r)
}

func isBlocked(w *Watcher, ip, shopper string) bool {
	var a netip.Addr
	if ip != "" {
		a = netip.MustParseAddr(ip)
	}
	_, ok := w.Blocked(a, shopper)
	return ok
}
