package server

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the gateway's Prometheus series, registered on a registry of
// their own so that several gateways in one process (as in tests) do not
// collide.
type metrics struct {
	registry    *prometheus.Registry
	connections prometheus.Gauge
	open        atomic.Int64 // the same count, for the node's ceiling
	dropped     prometheus.Counter
	panics      prometheus.Counter // answers to a client message that panicked (its socket closed 1011)
}

func newMetrics() *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		connections: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "foyer_shopper_connections", Help: "Shopper WebSockets open on this node.",
		}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "foyer_slow_clients_dropped_total", Help: "Shoppers cut off for not reading their messages.",
		}),
		panics: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "foyer_shopper_message_panics_total", Help: "Shopper messages whose handling panicked; each closed its socket with 1011.",
		}),
	}
	m.registry.MustRegister(m.connections, m.dropped, m.panics,
		prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	return m
}
