package redismetrics_test

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/foyerhq/foyer/internal/localservers"
	"github.com/foyerhq/foyer/internal/redismetrics"
)

// TestEveryCallIsTimedAndAFailureCountedButNotAMissingKey runs commands and
// a pipeline on a real Redis, then one after it stopped.
func TestEveryCallIsTimedAndAFailureCountedButNotAMissingKey(t *testing.T) {
	ctx := context.Background()
	srv, err := localservers.StartRedis(ctx, localservers.RedisOptions{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Stop() }) //nolint:errcheck // stopped in the test already
	reg := prometheus.NewRegistry()
	hook, err := redismetrics.New(reg)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr, MaxRetries: -1})
	t.Cleanup(func() { rdb.Close() })
	rdb.AddHook(hook)

	if err := rdb.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.Get(ctx, "missing").Err(); err != redis.Nil {
		t.Fatalf("get of a missing key: %v", err)
	}
	if _, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Incr(ctx, "n")
		p.Incr(ctx, "n")
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.Get(ctx, "k").Err(); err == nil {
		t.Fatal("a get from a stopped Redis succeeded")
	}

	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	// The client's own calls as it connects (hello, client setinfo, in a
	// pipeline) are calls too, and are counted with the rest.
	timed, failed := map[string]uint64{}, map[string]float64{}
	var lastSuccess float64
	for _, f := range families {
		for _, m := range f.GetMetric() {
			switch f.GetName() {
			case "foyer_redis_command_seconds":
				timed[m.GetLabel()[0].GetValue()] = m.GetHistogram().GetSampleCount()
			case "foyer_redis_errors_total":
				failed[m.GetLabel()[0].GetValue()] = m.GetCounter().GetValue()
			case "foyer_redis_last_success_timestamp_seconds":
				lastSuccess = m.GetGauge().GetValue()
			}
		}
	}
	if timed["set"] != 1 || timed["get"] != 2 || timed["pipeline"] < 1 {
		t.Errorf("calls timed %v, want set 1, get 2 and the pipeline", timed)
	}
	if failed["get"] != 1 || failed["set"] != 0 {
		t.Errorf("calls failed %v, want the get from the stopped Redis alone of the set and gets", failed)
	}
	if lastSuccess <= 0 {
		t.Errorf("last success %v, want a time", lastSuccess)
	}
}
