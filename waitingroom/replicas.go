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

// runReplicated runs script once for each of argLists in one pipeline and
// then WAIT on the same connection, to the primary of keys[0]'s slot: WAIT
// counts the replicas that have every write its connection made. Scripts
// Redis had lost are sent again whole. The commands are the scripts'
// answers (or why they did not run), in argLists' order; the error is
// ErrNotReplicated when they ran but their replicas did not say so in time.
func (c *Replicated) runReplicated(ctx context.Context, script *redis.Script, keys []string, argLists [][]any) ([]*redis.Cmd, error) {
	var node redis.Cmdable = c.UniversalClient
	cluster, isCluster := c.UniversalClient.(*redis.ClusterClient)
	if isCluster {
		primary, err := cluster.MasterForKey(ctx, keys[0])
		if err != nil {
			return failedAll(len(argLists), fmt.Errorf("find the primary of %s: %w", keys[0], err)), nil
		}
		node = primary
	}
	waitFor := func(p redis.Pipeliner) *redis.Cmd {
		return p.Do(ctx, "WAIT", c.Replicas, c.Timeout.Milliseconds())
	}
	var timed func(start time.Time, err error)
	if isCluster && c.Timed != nil {
		timed = func(start time.Time, err error) { c.Timed("pipeline", start, err) }
	}
	ran, waited := evalAll(ctx, node, script, keys, argLists, waitFor, timed)
	var notReplicated error
	reloaded := false
	for i, cmd := range ran {
		if err := cmd.Err(); err != nil {
			// The node went away or gave the slot up (a failover): the
			// cluster client's map of slots is stale, and its own commands
			// would only notice it when they fail in turn.
			if isCluster && !reloaded && (!isRedisReply(err) || redis.HasErrorPrefix(err, "MOVED")) {
				cluster.ReloadState(ctx)
				reloaded = true
			}
			continue // the script's own answer: nothing was written
		}
		acked, err := waited[i].Int()
		switch {
		case err != nil:
			notReplicated = fmt.Errorf("%w (WAIT: %w)", ErrNotReplicated, err)
		case acked < c.Replicas:
			notReplicated = fmt.Errorf("%w (%d of %d replicas within %v)", ErrNotReplicated, acked, c.Replicas, c.Timeout)
		}
	}
	return ran, notReplicated
}

// runDurable runs script once for each of argLists, on keys, in one
// pipeline, each as Run does it, and on a Replicated client waits for its
// replicas too, once for them all (runReplicated: the error is
// ErrNotReplicated). The commands answer in argLists' order.
func runDurable(ctx context.Context, rdb redis.UniversalClient, script *redis.Script, keys []string, argLists [][]any) ([]*redis.Cmd, error) {
	if c, ok := rdb.(*Replicated); ok {
		return c.runReplicated(ctx, script, keys, argLists)
	}
	ran, _ := evalAll(ctx, rdb, script, keys, argLists, nil, nil)
	return ran, nil
}

// evalAll sends script once for each of argLists in one pipeline on node,
// each by its SHA, with then's command after them when then is not nil
// (WAIT: it covers the writes made on the pipeline's connection). The ones
// Redis answered NOSCRIPT (it lost its scripts: a restart, a failover) did
// not run and are sent again whole in a second pipeline, with then's
// command again. tails[i] is then's command that followed ran[i]. timed,
// when not nil, is told of each pipeline.
func evalAll(ctx context.Context, node redis.Cmdable, script *redis.Script, keys []string, argLists [][]any,
	then func(redis.Pipeliner) *redis.Cmd, timed func(start time.Time, err error)) (ran, tails []*redis.Cmd) {
	send := func(which []int, whole bool) {
		start := time.Now()
		var tail *redis.Cmd
		_, _ = node.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, i := range which {
				if whole {
					ran[i] = script.Eval(ctx, p, keys, argLists[i]...)
				} else {
					ran[i] = script.EvalSha(ctx, p, keys, argLists[i]...)
				}
			}
			if then != nil {
				tail = then(p)
			}
			return nil
		})
		sent := []*redis.Cmd{tail}
		for _, i := range which {
			tails[i] = tail
			sent = append(sent, ran[i])
		}
		if timed != nil {
			timed(start, firstErr(sent...))
		}
	}
	ran, tails = make([]*redis.Cmd, len(argLists)), make([]*redis.Cmd, len(argLists))
	all := make([]int, len(argLists))
	for i := range all {
		all[i] = i
	}
	send(all, false)
	var lost []int
	for i, cmd := range ran {
		if redis.HasErrorPrefix(cmd.Err(), "NOSCRIPT") {
			lost = append(lost, i)
		}
	}
	if len(lost) > 0 {
		send(lost, true)
	}
	return ran, tails
}

// failedAll is n commands that failed with err before they were sent.
func failedAll(n int, err error) []*redis.Cmd {
	cmds := make([]*redis.Cmd, n)
	for i := range cmds {
		cmds[i] = redis.NewCmd(context.Background())
		cmds[i].SetErr(err)
	}
	return cmds
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
