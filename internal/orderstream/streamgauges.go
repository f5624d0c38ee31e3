package orderstream

import (
	"context"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
)

// gaugesTimeout bounds a scrape's reads of the streams.
const gaugesTimeout = 2 * time.Second

// StreamGauges is a Prometheus collector of the streams' state, read from
// Redis when scraped: per stream and partition, the messages the order
// workers' group was handed and has not acknowledged (pending) and those
// not handed yet (lag); the poison topic's length; and whether the streams
// could be read at all. The series are bounded by the partitions in use.
type StreamGauges struct {
	rdb                          redis.UniversalClient
	pending, lag, poison, readOK *prometheus.Desc
}

// NewStreamGauges returns the collector over rdb's streams.
func NewStreamGauges(rdb redis.UniversalClient) *StreamGauges {
	labels := []string{"stream", "partition"}
	return &StreamGauges{rdb: rdb,
		pending: prometheus.NewDesc("foyer_stream_pending", "Messages handed to the order workers' group and not yet acknowledged, by stream and partition.", labels, nil),
		lag:     prometheus.NewDesc("foyer_stream_lag", "Messages not yet handed to the order workers' group, by stream and partition.", labels, nil),
		poison:  prometheus.NewDesc("foyer_poison_messages", "Messages on the poison topic, waiting for an operator.", nil, nil),
		readOK:  prometheus.NewDesc("foyer_streams_readable", "1 when the last scrape read the streams from Redis, 0 when it could not.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (g *StreamGauges) Describe(ch chan<- *prometheus.Desc) {
	ch <- g.pending
	ch <- g.lag
	ch <- g.poison
	ch <- g.readOK
}

// Collect implements prometheus.Collector.
func (g *StreamGauges) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), gaugesTimeout)
	defer cancel()
	ok := g.collect(ctx, ch)
	ch <- prometheus.MustNewConstMetric(g.readOK, prometheus.GaugeValue, map[bool]float64{true: 1}[ok])
}

// collect reads every partition in use and the legacy streams in one
// pipeline, and reports whether it could.
func (g *StreamGauges) collect(ctx context.Context, ch chan<- prometheus.Metric) bool {
	highest, err := Highest(ctx, g.rdb)
	if err != nil {
		return false
	}
	type read struct {
		stream, partition string
		groups            *redis.XInfoGroupsCmd
		length            *redis.IntCmd
	}
	var reads []read
	var poison *redis.IntCmd
	_, _ = g.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for name, s := range map[string]Stream{"orders": Orders, "payments": Payments} {
			for i, topic := range s.Topics(highest) {
				partition := strconv.Itoa(i)
				if topic == s.Legacy() {
					partition = "legacy"
				}
				reads = append(reads, read{stream: name, partition: partition,
					groups: p.XInfoGroups(ctx, topic), length: p.XLen(ctx, topic)})
			}
		}
		poison = p.XLen(ctx, PoisonTopic)
		return nil
	})
	for _, r := range reads {
		pending, lag, err := groupState(r.groups, r.length)
		if err != nil {
			return false
		}
		ch <- prometheus.MustNewConstMetric(g.pending, prometheus.GaugeValue, float64(pending), r.stream, r.partition)
		ch <- prometheus.MustNewConstMetric(g.lag, prometheus.GaugeValue, float64(lag), r.stream, r.partition)
	}
	n, err := poison.Result()
	if err != nil {
		return false
	}
	ch <- prometheus.MustNewConstMetric(g.poison, prometheus.GaugeValue, float64(n))
	return true
}

// groupState is one stream's pending and lag for the order workers' group;
// a stream with no key yet has neither, and one with no group yet has every
// message still to hand out.
func groupState(groups *redis.XInfoGroupsCmd, length *redis.IntCmd) (pending, lag int64, err error) {
	gs, err := groups.Result()
	if err != nil {
		if err.Error() == "ERR no such key" {
			return 0, 0, nil
		}
		return 0, 0, err
	}
	for _, gr := range gs {
		if gr.Name == ConsumerGroup {
			return gr.Pending, max(gr.Lag, 0), nil
		}
	}
	n, err := length.Result()
	return 0, n, err
}
