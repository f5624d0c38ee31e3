package ratelimit

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// releases gathers a node's connection releases into one pipeline: in a
// moving sale shoppers close their sockets once they have paid, one a
// millisecond or more per node, and a round trip each for its ZREM was 5 %
// of a gateway's CPU (docs/performance.md, "Issue 21's levers, seventh
// session"). The departures of waitingroom.Presence are gathered alike.
type releases struct {
	mu      sync.Mutex
	pending *releaseBatch // the batch still gathering, if any
}

// releaseBatch is the releases sent in one pipeline.
type releaseBatch struct {
	sets, ids []string
	full      chan struct{} // closed when the batch reaches Conns.GatherMost: the gathering ends at once
	done      chan struct{} // closed once sent; errs is then set, one per release
	errs      []error
}

// join adds a release to the gathering batch, starting one if none
// gathers, and returns its place in the batch. The first release of a batch
// leads it: it sends the batch.
func (r *releases) join(set, id string, most int) (b *releaseBatch, at int, leads bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	b = r.pending
	if b == nil {
		b = &releaseBatch{full: make(chan struct{}), done: make(chan struct{})}
		r.pending, leads = b, true
	}
	at = len(b.ids)
	b.sets, b.ids = append(b.sets, set), append(b.ids, id)
	if len(b.ids) == most {
		close(b.full)
		r.pending = nil // later releases start a batch of their own
	}
	return b, at, leads
}

// close ends b's gathering: releases from now on start another batch.
func (r *releases) close(b *releaseBatch) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.pending == b {
		r.pending = nil
	}
}

// gathered releases the connection with set and id along with the others
// of Conns.Gather, and returns once its own is sent.
func (c *Conns) gathered(ctx context.Context, set, id string) error {
	b, at, leads := c.releasing.join(set, id, c.GatherMost)
	if !leads {
		select {
		case <-b.done:
			return b.errs[at]
		case <-ctx.Done(): // it is still sent, with its batch
			return fmt.Errorf("release %s connection %s: %w", c.name, id, ctx.Err())
		}
	}
	defer close(b.done)
	gather := time.NewTimer(c.Gather)
	select {
	case <-gather.C:
	case <-b.full:
		gather.Stop()
	case <-ctx.Done():
		gather.Stop()
	}
	c.releasing.close(b)
	b.errs = c.sendReleases(ctx, b.sets, b.ids)
	return b.errs[at]
}

// sendReleases takes the connections out of their sets in one round trip,
// and returns each one's error. A release that failed is kept to be sent
// again by the next Refresh: its node lives on, so the connection would
// count until the node dies.
func (c *Conns) sendReleases(ctx context.Context, sets, ids []string) []error {
	errs := make([]error, len(ids))
	if len(ids) == 1 {
		errs[0] = c.rdb.ZRem(ctx, sets[0], ids[0]).Err()
	} else {
		pipe := c.rdb.Pipeline()
		for i, id := range ids {
			pipe.ZRem(ctx, sets[i], id)
		}
		cmds, _ := pipe.Exec(ctx) // each command's own error is read below
		for i, cmd := range cmds {
			errs[i] = cmd.Err()
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, err := range errs {
		if err != nil {
			c.unreleased[ids[i]] = sets[i]
			errs[i] = fmt.Errorf("release %s connection %s: %w", c.name, ids[i], err)
		}
	}
	return errs
}
