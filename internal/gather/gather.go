// Package gather sends what many callers ask for at about the same moment
// in one round trip; each caller returns once its own is sent, with its own
// answer. Batches waits a moment for others after the first caller of a
// key: a node's departures from a sale and its connection releases are
// gathered so. Line waits for nothing: what is asked while a key's round
// trip is on its way goes in the next one; a sale's confirmations and
// arrivals are gathered so (docs/performance.md, "Issue 21's levers").
package gather

import (
	"context"
	"sync"
	"time"
)

// Batches gathers items by key. The zero value is ready to use.
type Batches[K comparable, T any] struct {
	mu      sync.Mutex
	pending map[K]*batch[T] // by key: the batch still gathering, if any
}

// batch is the items of one key sent together.
type batch[T any] struct {
	entries []*entry[T]
	full    chan struct{} // closed when most joined: the gathering ends at once
	done    chan struct{} // closed once sent; each entry's err is then set
}

// entry is one caller's item.
type entry[T any] struct {
	item    T
	dropped bool // taken out by Drop before it was sent
	err     error
}

// Send sends items of key in one round trip and returns each one's error,
// in their order (a slice as long as items).
type Send[K comparable, T any] func(ctx context.Context, key K, items []T) []error

// Do sends item with the others of key that come within wait of the first,
// or at once when most have joined, and returns its own error once sent.
// With wait of zero or less, or most of one or less, it sends item alone.
// A caller whose ctx ends first returns ctx's error; its item is still
// sent with its batch.
func (b *Batches[K, T]) Do(ctx context.Context, key K, item T, wait time.Duration, most int, send Send[K, T]) error {
	if wait <= 0 || most <= 1 {
		return send(ctx, key, []T{item})[0]
	}
	bt, e, leads := b.join(key, item, most)
	if !leads {
		select {
		case <-bt.done:
			return e.err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	defer close(bt.done)
	timer := time.NewTimer(wait)
	select {
	case <-timer.C:
	case <-bt.full:
		timer.Stop()
	case <-ctx.Done():
		timer.Stop()
	}
	entries := b.take(key, bt)
	if len(entries) == 0 {
		return nil
	}
	items := make([]T, len(entries))
	for i, e := range entries {
		items[i] = e.item
	}
	for i, err := range send(ctx, key, items) {
		entries[i].err = err
	}
	return e.err
}

// join adds an item to the key's gathering batch, starting one if none
// gathers. The first item of a batch leads it: its caller sends the batch.
func (b *Batches[K, T]) join(key K, item T, most int) (bt *batch[T], e *entry[T], leads bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	bt = b.pending[key]
	if bt == nil {
		if b.pending == nil {
			b.pending = make(map[K]*batch[T])
		}
		bt = &batch[T]{full: make(chan struct{}), done: make(chan struct{})}
		b.pending[key] = bt
		leads = true
	}
	e = &entry[T]{item: item}
	bt.entries = append(bt.entries, e)
	if len(bt.entries) == most {
		close(bt.full)
		delete(b.pending, key) // later items start a batch of their own
	}
	return bt, e, leads
}

// take ends bt's gathering and returns the entries to send, the dropped
// ones left out.
func (b *Batches[K, T]) take(key K, bt *batch[T]) []*entry[T] {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.pending[key] == bt {
		delete(b.pending, key)
	}
	kept := make([]*entry[T], 0, len(bt.entries))
	for _, e := range bt.entries {
		if !e.dropped {
			kept = append(kept, e)
		}
	}
	return kept
}

// Drop takes the items of key that match out of the batch still
// gathering: they are not sent, and their callers return nil. Once a batch
// is being sent it is too late.
func (b *Batches[K, T]) Drop(key K, match func(T) bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if bt := b.pending[key]; bt != nil {
		for _, e := range bt.entries {
			if match(e.item) {
				e.dropped = true
			}
		}
	}
}

// Gathering is how many items of key wait in the batch still gathering.
func (b *Batches[K, T]) Gathering(key K) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	if bt := b.pending[key]; bt != nil {
		for _, e := range bt.entries {
			if !e.dropped {
				n++
			}
		}
	}
	return n
}
