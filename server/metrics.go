package server

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the node's Prometheus series, on a registry of their own so
// that several nodes in one process (as in tests) do not collide: the
// transport's, the fan-out engine's (registered by fanout.New) and the Go
// runtime's.
type metrics struct {
	registry *prometheus.Registry
	panics   prometheus.Counter // answers to a client message that panicked (its socket closed 1011)
}

func newMetrics() *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		panics: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "foyer_shopper_message_panics_total", Help: "Shopper messages whose handling panicked; each closed its socket with 1011.",
		}),
	}
	m.registry.MustRegister(m.panics,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}
