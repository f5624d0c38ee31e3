package clock

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestSleepEndsWhenItsContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("Sleep on an ended context: %v, want context.Canceled", err)
	}
}

func TestSleepWaitsOutItsDurationOtherwise(t *testing.T) {
	start := time.Now()
	if err := Sleep(context.Background(), 10*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if time.Since(start) < 10*time.Millisecond {
		t.Fatal("Sleep returned before its duration")
	}
}

func TestEveryTicksUntilItsContextEnds(t *testing.T) {
	// The third tick runs past the period, so that when Every looks again
	// both its context's end and the next tick are ready: the end wins.
	for range 50 {
		ctx, cancel := context.WithCancel(context.Background())
		ticks := 0
		Every(ctx, time.Millisecond, func(context.Context) {
			if ticks++; ticks == 3 {
				cancel()
				time.Sleep(3 * time.Millisecond)
			}
		})
		if ticks != 3 {
			t.Fatalf("Every ticked %d times after its context ended at the third, want 3", ticks)
		}
	}
}
