package ratelimit

import (
	"context"
	"flag"
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/foyerhq/foyer/internal/testenv"
)

func TestMain(m *testing.M) {
	flag.Parse()
	// Every test here fails a script that touches a key it was not given in
	// KEYS (testenv.GuardKeys), unless the run measures.
	if !testenv.Measuring() {
		acquireScript = redis.NewScript(testenv.GuardKeys(acquireSource))
		tallyScript = redis.NewScript(testenv.GuardKeys(tallySource))
	}
	testenv.Main(m)
}

// commandCounter counts the commands a client sends, to show that a code path
// stays away from Redis.
type commandCounter struct{ n atomic.Int64 }

func (c *commandCounter) DialHook(next redis.DialHook) redis.DialHook { return next }

func (c *commandCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		c.n.Add(1)
		return next(ctx, cmd)
	}
}

func (c *commandCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		c.n.Add(int64(len(cmds)))
		return next(ctx, cmds)
	}
}
