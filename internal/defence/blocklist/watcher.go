package blocklist

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Watcher keeps this node's copy of the list up to date and answers whether a
// client is blocked, from memory. Every node runs one.
type Watcher struct {
	rdb redis.UniversalClient
	log *slog.Logger
	// PollEvery is how often Run checks the version in case an announcement
	// was lost (pub/sub delivers at most once: a reconnect or a Redis restart
	// drops what was sent meanwhile). It bounds how late a node can be to a
	// change. Defaults to 500ms.
	PollEvery time.Duration

	current atomic.Pointer[index]
	syncMu  sync.Mutex // one load at a time, so an older copy never replaces a newer one

	ready     chan struct{}
	readyOnce sync.Once
}

// NewWatcher returns a Watcher of the list in rdb, with the defaults
// documented on its fields. It blocks nobody until it has loaded the list (by
// Run or Sync).
func NewWatcher(rdb redis.UniversalClient, log *slog.Logger) *Watcher {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	w := &Watcher{rdb: rdb, log: log, PollEvery: 500 * time.Millisecond, ready: make(chan struct{})}
	w.current.Store(newIndex(-1, nil))
	return w
}

// Blocked reports the entry that blocks a client with this IP or shopper id,
// if any. Pass the zero Addr or an empty id for what is not known yet. It
// costs two map lookups and a scan of the blocked networks, and no Redis call.
func (w *Watcher) Blocked(ip netip.Addr, shopperID string) (Entry, bool) {
	return w.current.Load().blocked(ip, shopperID)
}

// Ready is closed once Run has subscribed to announcements and loaded the
// list, so a test or a readiness probe knows every later change will reach
// this node.
func (w *Watcher) Ready() <-chan struct{} { return w.ready }

// Run keeps the copy up to date until ctx ends: it reloads on each
// announcement and on each poll that finds a new version. Failures are logged
// and retried on the next poll, keeping the last copy meanwhile: a Redis
// outage leaves the node blocking what it blocked before.
//
// onChange, when not nil, is called after each change of the list once the
// new list is in force, whoever loaded it (Run, or a caller of Sync since
// Run began): a gateway closes the connections of the clients it now
// blocks. It runs on Run's goroutine, outside any lock, so it may call
// Blocked.
func (w *Watcher) Run(ctx context.Context, onChange func()) error {
	sub := w.rdb.Subscribe(ctx, changesChannel)
	defer sub.Close()
	// Waiting for the confirmation first means any change after the load
	// below is announced to this node.
	if _, err := sub.Receive(ctx); err != nil && ctx.Err() == nil {
		// go-redis resubscribes by itself; polling covers the meantime.
		w.log.Warn("blocklist: subscribe to changes", "err", err)
	}
	notices := sub.Channel()
	poll := time.NewTicker(w.PollEvery)
	defer poll.Stop()
	failing := false                      // log when reloading starts and stops failing, not every poll
	announced := w.current.Load().version // the version onChange was last called for
	for {
		err := w.Sync(ctx)
		if v := w.current.Load().version; v != announced {
			announced = v
			if onChange != nil {
				onChange()
			}
		}
		switch {
		case err == nil:
			w.readyOnce.Do(func() { close(w.ready) })
			if failing {
				w.log.Info("blocklist: reloading again")
			}
			failing = false
		case ctx.Err() == nil && !failing:
			w.log.Warn("blocklist: reload failed; keeping the last copy and retrying every poll", "err", err)
			failing = true
		}
		select {
		case <-ctx.Done():
			return nil
		case <-notices:
		case <-poll.C:
		}
	}
}

// Sync reloads the list now if its version changed since the last load: one
// GET when nothing changed. Run calls it; a node may call it once before
// serving, to start with the list rather than with nobody blocked.
func (w *Watcher) Sync(ctx context.Context) error {
	w.syncMu.Lock()
	defer w.syncMu.Unlock()
	// The version is read before the list, so the copy is never older than the
	// version it is labelled with: a change landing between the two reads
	// bumps the version again and is loaded next time.
	version, err := w.rdb.Get(ctx, versionKey).Int64()
	if errors.Is(err, redis.Nil) {
		version, err = 0, nil // nothing was ever blocked
	}
	if err != nil {
		return fmt.Errorf("read blocklist version: %w", err)
	}
	// Not "newer than": a Redis that lost its data starts counting again.
	if version == w.current.Load().version {
		return nil
	}
	entries, bad, err := readAll(ctx, w.rdb)
	if err != nil {
		return err
	}
	if len(bad) > 0 {
		w.log.Warn("blocklist: skipped entries that do not parse; remove them with HDEL",
			"key", listKey, "fields", bad)
	}
	w.current.Store(newIndex(version, entries))
	return nil
}
