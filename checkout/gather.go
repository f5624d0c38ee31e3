package checkout

import "time"

// gather returns first and what else arrives on in within window of it, up
// to max in all: one batch of a batcher that trades a few milliseconds for
// one message instead of many.
func gather[T any](in <-chan T, first T, window time.Duration, max int) []T {
	batch := []T{first}
	timer := time.NewTimer(window)
	defer timer.Stop()
	for len(batch) < max {
		select {
		case v := <-in:
			batch = append(batch, v)
		case <-timer.C:
			return batch
		}
	}
	return batch
}
