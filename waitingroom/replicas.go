package waitingroom

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// ErrNotReplicated means a confirmation was written on the sale's primary
// but not on as many replicas as asked within the wait: a failover now
// could lose it, so the shopper must not be told it is confirmed. The
// write stands; the same request sent again (its idempotency key) is
// answered as a replay once the replicas have it, and the outbox publishes
// it if the primary lives.
var ErrNotReplicated = errors.New("not replicated: the confirmation is not yet on enough replicas to survive a failover; retry")

// Replicated is a Redis client whose confirmations (Rooms.Confirm and
// Redeem, by every Rooms made with it) are answered only once Replicas
// replicas of the sale's primary have them (WAIT): Redis replicates
// asynchronously, and a primary that dies before its replica got a write
// fails over to a replica without it. Every other command passes through.
type Replicated struct {
	redis.UniversalClient
	// Replicas is how many replicas must acknowledge a confirmation.
	Replicas int
	// Timeout bounds the wait for them; past it the confirmation fails with
	// ErrNotReplicated.
	Timeout time.Duration
	// Timed, when not nil, is told of each confirmation's pipeline (the
	// node's metrics): on a cluster it goes to the sale's primary's own
	// client, which the hooks of the cluster client never see.
	Timed func(command string, start time.Time, err error)
}

// WithReplicas returns rdb as a Replicated client that waits for n replicas
// up to timeout, or rdb itself when n is 0: then a confirmation is answered
// once the primary has it.
func WithReplicas(rdb redis.UniversalClient, n int, timeout time.Duration) redis.UniversalClient {
	if n <= 0 {
		return rdb
	}
	return &Replicated{UniversalClient: rdb, Replicas: n, Timeout: timeout}
}

// runReplicated runs script and then WAIT on the same connection, to the
// primary of keys[0]'s slot: WAIT counts the replicas that have every write
// its connection made. A script Redis had lost is sent again whole. The
// command is the script's answer (or why it did not run); the error is
// ErrNotReplicated when it ran but its replicas did not say so in time.
func (c *Replicated) runReplicated(ctx context.Context, script *redis.Script, keys []string, args ...any) (*redis.Cmd, error) {
	var node redis.Cmdable = c.UniversalClient
	cluster, isCluster := c.UniversalClient.(*redis.ClusterClient)
	if isCluster {
		primary, err := cluster.MasterForKey(ctx, keys[0])
		if err != nil {
			failed := redis.NewCmd(ctx)
			failed.SetErr(fmt.Errorf("find the primary of %s: %w", keys[0], err))
			return failed, nil
		}
		node = primary
	}
	run := func(whole bool) (ran, waited *redis.Cmd) {
		if isCluster && c.Timed != nil {
			defer func(start time.Time) { c.Timed("pipeline", start, firstErr(ran, waited)) }(time.Now())
		}
		_, _ = node.Pipelined(ctx, func(p redis.Pipeliner) error {
			if whole {
				ran = script.Eval(ctx, p, keys, args...)
			} else {
				ran = script.EvalSha(ctx, p, keys, args...)
			}
			waited = p.Do(ctx, "WAIT", c.Replicas, c.Timeout.Milliseconds())
			return nil
		})
		return ran, waited
	}
	ran, waited := run(false)
	if redis.HasErrorPrefix(ran.Err(), "NOSCRIPT") {
		ran, waited = run(true)
	}
	if err := ran.Err(); err != nil {
		// The node went away or gave the slot up (a failover): the
		// cluster client's map of slots is stale, and its own commands
		// would only notice it when they fail in turn.
		if isCluster && (!isRedisReply(err) || redis.HasErrorPrefix(err, "MOVED")) {
			cluster.ReloadState(ctx)
		}
		return ran, nil // the script's own answer: nothing was written
	}
	acked, err := waited.Int()
	if err != nil {
		return ran, fmt.Errorf("%w (WAIT: %w)", ErrNotReplicated, err)
	}
	if acked < c.Replicas {
		return ran, fmt.Errorf("%w (%d of %d replicas within %v)", ErrNotReplicated, acked, c.Replicas, c.Timeout)
	}
	return ran, nil
}

// runDurable runs script as Run does and, on a Replicated client, waits for
// its replicas too (runReplicated: the error is ErrNotReplicated).
func runDurable(ctx context.Context, rdb redis.UniversalClient, script *redis.Script, keys []string, args ...any) (*redis.Cmd, error) {
	if c, ok := rdb.(*Replicated); ok {
		return c.runReplicated(ctx, script, keys, args...)
	}
	return script.Run(ctx, rdb, keys, args...), nil
}

// firstErr is the first of the pipeline's commands' errors, a missing key
// being none.
func firstErr(cmds ...*redis.Cmd) error {
	for _, cmd := range cmds {
		if cmd != nil && cmd.Err() != nil && !errors.Is(cmd.Err(), redis.Nil) {
			return cmd.Err()
		}
	}
	return nil
}

// isRedisReply reports whether err is an error reply of Redis, not one of
// the network.
func isRedisReply(err error) bool {
	var reply redis.Error
	return errors.As(err, &reply)
}
