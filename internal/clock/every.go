package clock

import (
	"context"
	"time"
)

// Every calls tick every d until ctx ends, then returns; the first call
// comes d after the start. A tick that runs long delays the next one
// rather than stacking up behind it (time.Ticker drops the ticks missed).
func Every(ctx context.Context, d time.Duration, tick func(ctx context.Context)) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			// select picks at random among ready cases: a tick that ended
			// the context must not be followed by one more.
			if ctx.Err() != nil {
				return
			}
			tick(ctx)
		}
	}
}
