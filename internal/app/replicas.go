package app

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"
)

// warnIfReplicasShort logs, at start, each Redis primary with fewer
// replicas online than FOYER_REDIS_WAIT_REPLICAS asks for: every checkout
// of its sales would wait FOYER_REDIS_WAIT_TIMEOUT and fail (503
// not_durable). A node still starts: a replica may be on its way back.
func warnIfReplicasShort(ctx context.Context, rdb redis.UniversalClient, want int, log *slog.Logger) {
	short, err := replicasShort(ctx, rdb, want)
	if err != nil {
		log.Warn("could not count the Redis replicas FOYER_REDIS_WAIT_REPLICAS waits for", "err", err)
		return
	}
	for primary, online := range short {
		log.Warn("a Redis primary has fewer replicas online than FOYER_REDIS_WAIT_REPLICAS: checkouts of its sales fail (503 not_durable) until they are back",
			"primary", primary, "replicas", online, "want", want)
	}
}

// replicasShort returns the primaries (every primary of a cluster) with
// fewer than want replicas online, each with how many it has.
func replicasShort(ctx context.Context, rdb redis.UniversalClient, want int) (map[string]int, error) {
	var mu sync.Mutex
	short := map[string]int{}
	count := func(ctx context.Context, c *redis.Client) error {
		info, err := c.Info(ctx, "replication").Result()
		if err != nil {
			return fmt.Errorf("INFO replication of %s: %w", c.Options().Addr, err)
		}
		online := connectedReplicas(info)
		if online < want {
			mu.Lock()
			short[c.Options().Addr] = online
			mu.Unlock()
		}
		return nil
	}
	var err error
	switch c := rdb.(type) {
	case *redis.ClusterClient:
		err = c.ForEachMaster(ctx, count)
	case *redis.Client:
		err = count(ctx, c)
	default:
		err = fmt.Errorf("a Redis client of type %T", rdb)
	}
	return short, err
}

// connectedReplicas reads connected_slaves from INFO replication.
func connectedReplicas(info string) int {
	for line := range strings.Lines(info) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "connected_slaves:"); ok {
			n, _ := strconv.Atoi(v)
			return n
		}
	}
	return 0
}
