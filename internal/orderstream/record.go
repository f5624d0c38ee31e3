package orderstream

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"
)

// partitionsKey records the highest partition count any gateway has
// published with. Order workers read every partition up to it, whatever
// their own setting, so a gateway started with more partitions, or a
// lowered count while the higher partitions still hold messages, loses
// nothing: the record only rises. It is a key of its own, in whatever slot
// its name hashes to.
const partitionsKey = "foyer.streams.partitions"

//go:embed lua/announce.lua
var announceSource string

var announceScript = redis.NewScript(announceSource)

// Announce records that p partitions are in use, before anything is
// published to them, and returns the highest count recorded.
func Announce(ctx context.Context, rdb redis.UniversalClient, p Partitions) (int, error) {
	n, err := announceScript.Run(ctx, rdb, []string{partitionsKey}, p.Count()).Int()
	if err != nil {
		return 0, fmt.Errorf("announce %d stream partitions: %w", p.Count(), err)
	}
	return min(n, MaxPartitions), nil
}

// Highest is the highest partition count recorded: 0 when no gateway of a
// version with partitions has published yet. A record past MaxPartitions
// (set by hand: no node publishes there) reads as MaxPartitions.
func Highest(ctx context.Context, rdb redis.UniversalClient) (int, error) {
	v, err := rdb.Get(ctx, partitionsKey).Result()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read the stream partitions in use: %w", err)
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("read the stream partitions in use: %s holds %q, not a count", partitionsKey, v)
	}
	return min(n, MaxPartitions), nil
}
