package gather

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// ErrSendFailed answers the calls of a batch whose send panicked.
var ErrSendFailed = errors.New("gather: the batch's send failed")

// Line gathers without a wait: the first item of a quiet key is sent at
// once, and the items asked while its round trip is on its way are sent
// together when it is back, by the first of their callers, and so on while
// they keep coming. A lone caller is answered as fast as if sent alone; a
// burst costs a round trip per batch, not per item. Batches' window suits
// what nobody waits for (a departure); Line suits what a shopper waits for
// (a checkout's confirmation). The zero value is ready to use.
type Line[K comparable, T, R any] struct {
	// Most bounds a batch; the rest wait for the next. Zero: 256.
	Most int

	mu    sync.Mutex
	lines map[K]*line[T, R] // by key, while one of its batches is on its way
}

// line is one key's: the calls waiting for the batch on its way.
type line[T, R any] struct {
	waiting []*call[T, R]
}

// call is one caller's item. done is closed once its answer is set, or
// once it was handed the line: batch is then what it sends, itself first.
type call[T, R any] struct {
	ctx   context.Context
	item  T
	got   R
	err   error
	batch []*call[T, R]
	done  chan struct{}
}

// SendAll sends items of key in one round trip and returns each one's
// answer and error, in their order (slices as long as items).
type SendAll[K comparable, T, R any] func(ctx context.Context, key K, items []T) ([]R, []error)

// Do sends item with key's line, as Line says, and returns its answer. A
// caller whose ctx ends while its item waits in the line returns ctx's
// error, and its item is not sent. Once sent, it is answered with its
// batch: send's ctx is the first caller's without its cancellation (the
// round trip is all of theirs), so send must bound it itself.
func (l *Line[K, T, R]) Do(ctx context.Context, key K, item T, send SendAll[K, T, R]) (R, error) {
	c := &call[T, R]{ctx: ctx, item: item, done: make(chan struct{})}
	l.mu.Lock()
	ln, busy := l.lines[key]
	if busy {
		ln.waiting = append(ln.waiting, c)
		l.mu.Unlock()
		<-c.done
		if c.batch == nil {
			return c.got, c.err
		}
	} else {
		if l.lines == nil {
			l.lines = make(map[K]*line[T, R])
		}
		ln = &line[T, R]{}
		l.lines[key] = ln
		l.mu.Unlock()
		c.batch = []*call[T, R]{c}
	}
	l.send(key, ln, c.batch, send)
	return c.got, c.err
}

// send sends batch, answers its calls, and hands the line to the first of
// the calls that queued meanwhile, or closes it.
func (l *Line[K, T, R]) send(key K, ln *line[T, R], batch []*call[T, R], send SendAll[K, T, R]) {
	live := make([]*call[T, R], 0, len(batch))
	items := make([]T, 0, len(batch))
	for _, c := range batch {
		if err := c.ctx.Err(); err != nil {
			c.err = err
			continue
		}
		live = append(live, c)
		items = append(items, c.item)
	}
	var panicked any
	if len(live) > 0 {
		panicked = answerBatch(context.WithoutCancel(live[0].ctx), key, live, items, send)
	}

	most := l.Most
	if most <= 0 {
		most = 256
	}
	l.mu.Lock()
	next := ln.waiting
	if len(next) > most {
		next, ln.waiting = next[:most], next[most:]
	} else {
		ln.waiting = nil
	}
	if len(next) == 0 {
		delete(l.lines, key)
	}
	l.mu.Unlock()

	// batch[0] is the caller sending it, waiting on nothing.
	for _, c := range batch[1:] {
		close(c.done)
	}
	if len(next) > 0 {
		next[0].batch = next
		close(next[0].done)
	}
	if panicked != nil {
		// Everyone was answered and the line handed on: the panic is the
		// sender's own again, as if it had sent alone.
		panic(panicked)
	}
}

// answerBatch sends items and answers live's calls with what send returned. A
// send that panics, or returns fewer answers than items, answers each call
// with ErrSendFailed instead, so that no caller, and no call queued behind
// them, waits forever; the panic is returned for the sender to raise.
func answerBatch[K comparable, T, R any](ctx context.Context, key K, live []*call[T, R], items []T, send SendAll[K, T, R]) (panicked any) {
	defer func() {
		if panicked = recover(); panicked != nil {
			for _, c := range live {
				var zero R
				c.got, c.err = zero, fmt.Errorf("%w: %v", ErrSendFailed, panicked)
			}
		}
	}()
	got, errs := send(ctx, key, items)
	if len(got) != len(items) || len(errs) != len(items) {
		panic(fmt.Sprintf("send answered %d and %d of %d items", len(got), len(errs), len(items)))
	}
	for i, c := range live {
		c.got, c.err = got[i], errs[i]
	}
	return nil
}

// Waiting is how many items of key wait behind the batch on its way.
func (l *Line[K, T, R]) Waiting(key K) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if ln := l.lines[key]; ln != nil {
		return len(ln.waiting)
	}
	return 0
}
