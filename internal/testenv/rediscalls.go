package testenv

import (
	"context"
	"slices"
	"sync/atomic"

	"github.com/redis/go-redis/v9"
)

// RedisCalls is a go-redis hook that counts the round trips a client makes
// and the commands in them, to show how often a code path goes to Redis.
// With Only set, only the commands it names count (a pipeline is a round
// trip when one of its commands counts). A new connection's own handshake
// (HELLO, and the CLIENT commands go-redis sends after it) is never
// counted: the pool opens connections when it pleases. Add it with client.AddHook.
type RedisCalls struct {
	Only []string // command names, lower case ("evalsha", "zrem"); empty: every command

	trips, commands atomic.Int64
}

// Trips is how many round trips were counted.
func (c *RedisCalls) Trips() int64 { return c.trips.Load() }

// Commands is how many commands were counted.
func (c *RedisCalls) Commands() int64 { return c.commands.Load() }

func (c *RedisCalls) counts(cmd redis.Cmder) bool {
	switch name := cmd.Name(); {
	case name == "hello", name == "client": // a new connection's handshake
		return false
	case len(c.Only) == 0:
		return true
	default:
		return slices.Contains(c.Only, name)
	}
}

// DialHook counts nothing.
func (c *RedisCalls) DialHook(next redis.DialHook) redis.DialHook { return next }

// ProcessHook counts a command sent alone.
func (c *RedisCalls) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if c.counts(cmd) {
			c.trips.Add(1)
			c.commands.Add(1)
		}
		return next(ctx, cmd)
	}
}

// ProcessPipelineHook counts a pipeline's commands, and the pipeline as a
// round trip when any of them counts.
func (c *RedisCalls) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		n := int64(0)
		for _, cmd := range cmds {
			if c.counts(cmd) {
				n++
			}
		}
		if n > 0 {
			c.trips.Add(1)
			c.commands.Add(n)
		}
		return next(ctx, cmds)
	}
}
