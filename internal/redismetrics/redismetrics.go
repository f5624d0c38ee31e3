// Package redismetrics measures a node's calls to Redis for its metrics:
// how long each command took, by command, which failed, and when one last
// succeeded (a node whose Redis is out of reach stops moving it, which an
// alert watches). It is a go-redis hook: every client of a process adds the
// same one.
package redismetrics

import (
	"context"
	"errors"
	"net"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
)

// buckets are the calls' histogram buckets, in seconds: most take well
// under a millisecond on a near Redis; a blocking read waits up to seconds.
var buckets = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}

// Hook is a go-redis hook that measures every command and pipeline.
type Hook struct {
	seconds     *prometheus.HistogramVec
	errors      *prometheus.CounterVec
	lastSuccess prometheus.Gauge
	now         func() time.Time
}

// New registers the calls' series on reg and returns the hook that fills
// them.
func New(reg prometheus.Registerer) (*Hook, error) {
	h := &Hook{
		seconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "foyer_redis_command_seconds", Help: "Redis calls by command (a pipeline is one call, command \"pipeline\"), from sent to answered.",
			Buckets: buckets,
		}, []string{"command"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "foyer_redis_errors_total", Help: "Redis calls that failed (a missing key is no failure), by command.",
		}, []string{"command"}),
		lastSuccess: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "foyer_redis_last_success_timestamp_seconds", Help: "When a Redis call of this process last succeeded (Unix time).",
		}),
		now: time.Now,
	}
	for _, c := range []prometheus.Collector{h.seconds, h.errors, h.lastSuccess} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return h, nil
}

// DialHook implements redis.Hook: dials are not measured.
func (h *Hook) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) { return next(ctx, network, addr) }
}

// ProcessHook implements redis.Hook.
func (h *Hook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		start := h.now()
		err := next(ctx, cmd)
		h.observe(strings.ToLower(cmd.Name()), start, err)
		return err
	}
}

// ProcessPipelineHook implements redis.Hook.
func (h *Hook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		start := h.now()
		err := next(ctx, cmds)
		h.observe("pipeline", start, err)
		return err
	}
}

// Observe records a call the hook did not see, made on a client it is not
// on: on a cluster, a pipeline sent to one node's own client.
func (h *Hook) Observe(command string, start time.Time, err error) { h.observe(command, start, err) }

func (h *Hook) observe(command string, start time.Time, err error) {
	now := h.now()
	h.seconds.WithLabelValues(command).Observe(now.Sub(start).Seconds())
	if err != nil && !errors.Is(err, redis.Nil) {
		h.errors.WithLabelValues(command).Inc()
		return
	}
	h.lastSuccess.Set(float64(now.UnixNano()) / 1e9)
}
