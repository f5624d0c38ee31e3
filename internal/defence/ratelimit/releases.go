package ratelimit

import (
	"context"
	"fmt"
)

// A node's connection releases are gathered (gather.Batches) into one
// pipeline: in a moving sale shoppers close their sockets once they have
// paid, one a millisecond or more per node, and a round trip each for its
// ZREM was 5 % of a gateway's CPU (docs/performance.md, "Issue 21's levers,
// seventh session"). All of a node's releases gather under one key: a
// pipeline takes any keys, and a cluster client splits it by slot.

// releaseOf is one connection to take out of its key's set.
type releaseOf struct{ set, id string }

// allReleases is the one key a node's releases gather under.
const allReleases = ""

// sendReleases takes the connections out of their sets in one round trip,
// and returns each one's error. A release that failed is kept to be sent
// again by the next Refresh: its node lives on, so the connection would
// count until the node dies.
func (c *Conns) sendReleases(ctx context.Context, _ string, rs []releaseOf) []error {
	errs := make([]error, len(rs))
	if len(rs) == 1 {
		errs[0] = c.rdb.ZRem(ctx, rs[0].set, rs[0].id).Err()
	} else {
		pipe := c.rdb.Pipeline()
		for _, r := range rs {
			pipe.ZRem(ctx, r.set, r.id)
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
			c.unreleased[rs[i].id] = rs[i].set
			errs[i] = fmt.Errorf("release %s connection %s: %w", c.name, rs[i].id, err)
		}
	}
	return errs
}
