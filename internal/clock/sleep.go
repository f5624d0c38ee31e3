// Package clock holds the one way Foyer waits: a pause that a context can
// cut short. Every loop that backs off, retries or paces itself waits here,
// so that stopping a process never waits out a timer.
package clock

import (
	"context"
	"time"
)

// Sleep waits for d, or until ctx ends, and returns ctx's error if it ended
// first. A d of zero or less returns at once (with ctx's error, if any).
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
