package ratelimit

import (
	"testing"
	"time"

	"github.com/foyerhq/foyer/internal/testenv"
)

func TestATallyCountsPerKeyAndStartsAgainAfterItsWindow(t *testing.T) {
	rdb := testenv.RedisClient(t, testenv.NewRedis(t))
	tally := NewTally(rdb, "sessions")
	tally.Window, tally.Timeout = 300*time.Millisecond, 10*time.Second
	for want := int64(1); want <= 3; want++ {
		if n, err := tally.Add(t.Context(), "198.51.100.7"); err != nil || n != want {
			t.Fatalf("add %d: %d, %v", want, n, err)
		}
	}
	if n, err := tally.Add(t.Context(), "198.51.100.8"); err != nil || n != 1 {
		t.Fatalf("another address: %d, %v; want its own count, 1", n, err)
	}
	ttl := rdb.PTTL(t.Context(), "foyer:rl:tally:sessions:198.51.100.7").Val()
	if ttl <= 0 || ttl > 300*time.Millisecond {
		t.Fatalf("the counter expires in %v, want within its window", ttl)
	}
	time.Sleep(ttl + 50*time.Millisecond) // waiting out the window is the point
	if n, err := tally.Add(t.Context(), "198.51.100.7"); err != nil || n != 1 {
		t.Fatalf("after the window: %d, %v; want a fresh count, 1", n, err)
	}
}
