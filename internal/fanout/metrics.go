package fanout

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the engine's Prometheus series, registered on the registry the
// node gives (Config.Registerer), so that several nodes in one process (as in
// tests) do not collide.
type metrics struct {
	connections prometheus.Gauge
	open        atomic.Int64 // the same count, for the node's ceiling
	dropped     prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		connections: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "foyer_shopper_connections", Help: "Shopper WebSockets open on this node.",
		}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "foyer_slow_clients_dropped_total", Help: "Shoppers cut off for not reading their messages.",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.connections, m.dropped)
	}
	return m
}
