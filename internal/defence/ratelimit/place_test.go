package ratelimit

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	"github.com/redis/go-redis/v9"
)

// TestACountedConnectionsReleaseKeepsLittleOfItsOwn: every held shopper
// keeps its connection's release for as long as its socket is open, so
// what the release keeps is memory per shopper. It keeps the caller's key
// and a number, and makes the set and the connection id again when it
// runs; it kept both strings, a sync.Once and a closure before (168 bytes).
// TestAKeyAtItsLimitIsRefusedUntilASlotIsReleased checks that it still
// releases the connection it counted.
func TestACountedConnectionsReleaseKeepsLittleOfItsOwn(t *testing.T) {
	const n = 20000
	c := NewConns(nil, "ws_shopper")
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("shopper:v_%026d", i)
	}
	releases := make([]func(context.Context) error, n)
	before := heapAfterCollection()
	for i, key := range keys {
		count := c.Count(key, 2)
		count.answer = redis.NewCmd(t.Context())
		count.answer.SetVal(int64(1)) // what acquire.lua answers a connection it counted
		release, err := count.Result()
		if err != nil {
			t.Fatal(err)
		}
		releases[i] = release
	}
	per := float64(heapAfterCollection()-before) / n
	runtime.KeepAlive(keys)
	runtime.KeepAlive(releases)
	if per > 80 {
		t.Errorf("a connection's release keeps %.0f bytes, want at most 80", per)
	}
}

// heapAfterCollection is the heap's live objects after a full collection.
func heapAfterCollection() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
