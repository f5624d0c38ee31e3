package app

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/foyerhq/foyer/internal/testenv"
)

// TestTheDefencesRunReturnsOnlyOnceItsConnectionRefreshHasStopped holds a
// refresh of the connection counts in flight (a slow Redis round trip) when
// the gateway stops. The defences' run used to start that loop in a
// goroutine nobody awaited and return without it, so the refresh went on
// after the gateway's Run had returned and Close had closed its Redis. Run
// must return only after the refresh has.
func TestTheDefencesRunReturnsOnlyOnceItsConnectionRefreshHasStopped(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	d, err := newDefences(testenv.RedisClient(t, testenv.NewRedis(t)), Config{}, log)
	if err != nil {
		t.Fatal(err)
	}
	// inFlight keeps the first refresh's word until the test reads it: the
	// refresh may start before the test waits, and unbuffered, its word was
	// dropped and both waited for ever (a 20-minute hang under make test).
	inFlight, release := make(chan struct{}, 1), make(chan struct{})
	d.refreshEvery = time.Millisecond
	d.refresh = func(context.Context) error {
		select {
		case inFlight <- struct{}{}:
		default:
		}
		<-release // a round trip that does not heed the context
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.run(ctx, nil, log) }()
	<-inFlight
	cancel()
	// The blocklist's watcher stops at once; run must still wait.
	select {
	case <-done:
		t.Fatal("run returned while a refresh of the connection counts was in flight")
	case <-time.After(200 * time.Millisecond):
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
