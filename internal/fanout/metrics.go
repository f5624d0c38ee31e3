package fanout

import (
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the engine's Prometheus series, registered on the registry the
// node gives (Config.Registerer), so that several nodes in one process (as in
// tests) do not collide.
type metrics struct {
	connections prometheus.Gauge
	open        atomic.Int64 // the same count, for the node's ceiling
	dropped     prometheus.Counter
	// writes and waits are the writers' work by what a write carried:
	// the tick's pushes alone, or news (anything else). A wait is from the
	// first message queued to the write's end: how late a push reached the
	// socket.
	writes   [2]prometheus.Counter
	waits    [2]prometheus.Observer
	messages [2]prometheus.Counter
}

// Kinds of write, the index of metrics' arrays and their kind label.
const (
	pushWrite = 0
	newsWrite = 1
)

var writeKinds = [2]string{pushWrite: "push", newsWrite: "news"}

// waitBuckets are the write waits' histogram buckets, in seconds: a push is
// due within the second it was made for.
var waitBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		connections: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "foyer_shopper_connections", Help: "Shopper WebSockets open on this node.",
		}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "foyer_slow_clients_dropped_total", Help: "Shoppers cut off for not reading their messages.",
		}),
	}
	writes := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "foyer_writes_total", Help: "Writes to shoppers' sockets, by kind: push (a tick's counters and position alone) or news (anything else).",
	}, []string{"kind"})
	messages := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "foyer_messages_sent_total", Help: "Messages written to shoppers' sockets, by the kind of write that carried them.",
	}, []string{"kind"})
	waits := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "foyer_write_wait_seconds", Help: "From a socket's first message queued to its write's end, by kind of write (push, news).",
		Buckets: waitBuckets,
	}, []string{"kind"})
	for i, kind := range writeKinds {
		m.writes[i], m.messages[i], m.waits[i] = writes.WithLabelValues(kind), messages.WithLabelValues(kind), waits.WithLabelValues(kind)
	}
	if reg != nil {
		reg.MustRegister(m.connections, m.dropped, writes, messages, waits)
	}
	return m
}

// wrote counts a write of n messages that waited since queued.
func (m *metrics) wrote(pushes bool, n int, waited time.Duration) {
	kind := newsWrite
	if pushes {
		kind = pushWrite
	}
	m.writes[kind].Inc()
	m.messages[kind].Add(float64(n))
	m.waits[kind].Observe(waited.Seconds())
}
