package blocklist

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/foyerhq/foyer/internal/testenv"
)

// news is how fast a change must reach every node.
const news = time.Second

func TestAnIPBlockedOnOneNodeIsBlockedOnAnotherWithinASecond(t *testing.T) {
	a, b := twoNodes(t)
	// A poll this slow leaves the announcement as the only way in time.
	watcherB := startWatcher(t, b, time.Hour)
	if isBlocked(watcherB, "203.0.113.7", "") {
		t.Fatal("blocked before anything was added")
	}
	e, err := NewManager(a).Add(t.Context(), KindIP, "203.0.113.7", "card testing")
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, news, "node B blocks 203.0.113.7", func() bool { return isBlocked(watcherB, "203.0.113.7", "") })
	got, _ := watcherB.Blocked(netip.MustParseAddr("203.0.113.7"), "")
	if got != e {
		t.Errorf("node B blocked with %+v, want the entry added, %+v", got, e)
	}
	if isBlocked(watcherB, "203.0.113.8", "") {
		t.Error("a neighbouring address is blocked too")
	}
}

func TestAChangeWhoseAnnouncementWasLostArrivesByPolling(t *testing.T) {
	a, b := twoNodes(t)
	watcherB := startWatcher(t, b, 500*time.Millisecond)
	// What Add stores, without the announcement, as if pub/sub dropped it.
	if err := a.HSet(t.Context(), listKey, "ip:203.0.113.7", `{"added_at":0}`).Err(); err != nil {
		t.Fatal(err)
	}
	if err := a.Incr(t.Context(), versionKey).Err(); err != nil {
		t.Fatal(err)
	}
	eventually(t, news, "node B blocks 203.0.113.7", func() bool { return isBlocked(watcherB, "203.0.113.7", "") })
}

func TestANetworkBlocksEveryAddressInIt(t *testing.T) {
	a, b := twoNodes(t)
	watcherB := startWatcher(t, b, time.Hour)
	m := NewManager(a)
	for _, n := range []string{"198.51.100.0/24", "2001:db8::/32"} {
		if _, err := m.Add(t.Context(), KindNetwork, n, "botnet"); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, news, "node B blocks the IPv6 network", func() bool { return isBlocked(watcherB, "2001:db8::1", "") })
	for ip, want := range map[string]bool{
		"198.51.100.0":          true,
		"198.51.100.77":         true,
		"::ffff:198.51.100.77":  true, // IPv4 seen through a dual-stack listener
		"198.51.101.1":          false,
		"2001:db8:ffff::5":      true,
		"2001:db9::1":           false,
		"::ffff:198.51.101.255": false,
	} {
		if got := isBlocked(watcherB, ip, ""); got != want {
			t.Errorf("blocked(%s) = %v, want %v", ip, got, want)
		}
	}
}

func TestAShopperIsBlockedFromAnyIP(t *testing.T) {
	a, b := twoNodes(t)
	watcherB := startWatcher(t, b, time.Hour)
	if _, err := NewManager(a).Add(t.Context(), KindShopper, "v_scalper", "bot"); err != nil {
		t.Fatal(err)
	}
	eventually(t, news, "node B blocks the shopper", func() bool { return isBlocked(watcherB, "", "v_scalper") })
	if !isBlocked(watcherB, "192.0.2.1", "v_scalper") {
		t.Error("the shopper is not blocked from another IP")
	}
	if isBlocked(watcherB, "192.0.2.1", "v_honest") {
		t.Error("another shopper is blocked")
	}
}

func TestRemovingAnEntryUnblocksIt(t *testing.T) {
	a, b := twoNodes(t)
	watcherB := startWatcher(t, b, time.Hour)
	m := NewManager(a)
	if _, err := m.Add(t.Context(), KindNetwork, "198.51.100.0/24", ""); err != nil {
		t.Fatal(err)
	}
	eventually(t, news, "node B blocks the network", func() bool { return isBlocked(watcherB, "198.51.100.7", "") })
	// Any form Add accepts names the entry: these host bits are cleared.
	if err := m.Remove(t.Context(), KindNetwork, "198.51.100.99/24"); err != nil {
		t.Fatal(err)
	}
	eventually(t, news, "node B unblocks the network", func() bool { return !isBlocked(watcherB, "198.51.100.7", "") })
	if err := m.Remove(t.Context(), KindNetwork, "198.51.100.0/24"); !errors.Is(err, ErrNotFound) {
		t.Errorf("removing it again: err = %v, want ErrNotFound", err)
	}
}

func TestAWatcherStartsWithTheListAlreadyThere(t *testing.T) {
	a, b := twoNodes(t)
	if _, err := NewManager(a).Add(t.Context(), KindIP, "203.0.113.7", ""); err != nil {
		t.Fatal(err)
	}
	w := NewWatcher(b, nil)
	if err := w.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	if !isBlocked(w, "203.0.113.7", "") {
		t.Error("a synced watcher does not block an entry added before it started")
	}
}

func TestAnEntryThatDoesNotParseIsSkippedNotMatched(t *testing.T) {
	a, b := twoNodes(t)
	if err := a.HSet(t.Context(), listKey, "ip:not-an-ip", `{}`, "net:10.0.0.0/8", `garbage`,
		"ip:203.0.113.7", `{"added_at":0}`).Err(); err != nil {
		t.Fatal(err)
	}
	w := NewWatcher(b, nil)
	if err := w.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	if isBlocked(w, "10.1.2.3", "") || !isBlocked(w, "203.0.113.7", "") {
		t.Error("the good entry must block and the broken ones must not")
	}
}

func TestAWatcherKeepsItsCopyThroughARedisOutageAndCatchesUp(t *testing.T) {
	r := testenv.NewRedis(t, testenv.WithAppendOnly())
	a, b := testenv.RedisClient(t, r), testenv.RedisClient(t, r)
	watcherB := startWatcher(t, b, 500*time.Millisecond)
	m := NewManager(a)
	if _, err := m.Add(t.Context(), KindIP, "203.0.113.7", ""); err != nil {
		t.Fatal(err)
	}
	eventually(t, news, "node B blocks 203.0.113.7", func() bool { return isBlocked(watcherB, "203.0.113.7", "") })

	if err := r.Kill(); err != nil {
		t.Fatal(err)
	}
	// A reload that fails must leave the copy as it was.
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	if err := watcherB.Sync(ctx); err == nil {
		t.Fatal("a reload without Redis reported no error")
	}
	if !isBlocked(watcherB, "203.0.113.7", "") {
		t.Fatal("node B forgot its copy while Redis was down")
	}
	if err := r.Restart(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Add(t.Context(), KindShopper, "v_scalper", ""); err != nil {
		t.Fatal(err)
	}
	// A poll, after the client's reconnect, brings it even if the
	// resubscription is not back yet.
	eventually(t, 5*time.Second, "node B blocks the shopper added after the outage",
		func() bool { return isBlocked(watcherB, "", "v_scalper") })
}

func TestOnChangeIsCalledAfterEachChangeWithTheNewListInForce(t *testing.T) {
	a, b := twoNodes(t)
	w := NewWatcher(b, nil)
	w.PollEvery = time.Hour      // the announcements alone bring the change
	calls := make(chan bool, 10) // per call: whether the block was in force then
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx, func() { calls <- isBlocked(w, "203.0.113.7", "") }) }()
	t.Cleanup(func() { cancel(); <-done })
	next := func(what string) bool {
		t.Helper()
		select {
		case blocked := <-calls:
			return blocked
		case <-time.After(news):
			t.Fatalf("no call of onChange %s", what)
			return false
		}
	}
	// The first load is a change: from nothing loaded to the empty list.
	if next("for the first load") {
		t.Fatal("the first load was called with the block in force before anything was blocked")
	}
	if err := w.Sync(t.Context()); err != nil { // nothing changed: no call
		t.Fatal(err)
	}
	if _, err := NewManager(a).Add(t.Context(), KindIP, "203.0.113.7", ""); err != nil {
		t.Fatal(err)
	}
	if !next("after a block") {
		t.Error("onChange was called for the block before it was in force, or for a sync without news")
	}
	select {
	case <-calls:
		t.Error("onChange was called again without a change")
	default:
	}
}
