package server

import (
	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the node's Prometheus series, on a registry of their own so
// that several nodes in one process (as in tests) do not collide: the
// transport's, the fan-out engine's (registered by fanout.New), those the
// composition root adds (Registerer: Redis's calls, the admitter's) and the
// Go runtime's. docs/operations.md lists them all.
type metrics struct {
	registry *prometheus.Registry
	panics   prometheus.Counter // answers to a client message that panicked (its socket closed 1011)
	// errors counts every error a client is told, by transport (http, ws)
	// and by its code from the one error table: the codes are the table's,
	// a bounded set.
	errors *prometheus.CounterVec
	// joins counts shoppers' joins by outcome: placed (queued or prequeued
	// now), answered (told a challenge, or the place it had) or refused
	// (the error's code is in errors).
	joins *prometheus.CounterVec
	// checkouts counts checkouts and redeems by outcome: confirmed,
	// replayed (a request sent again, answered as before) or refused.
	checkouts *prometheus.CounterVec
	// ceiling is the node's ceiling on shopper sockets
	// (Limits.MaxConnections; 0 for none), beside the fan-out engine's
	// count of those open, for the alert on a node at its ceiling.
	ceiling prometheus.Gauge
}

func newMetrics() *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		panics: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "foyer_shopper_message_panics_total", Help: "Shopper messages whose handling panicked; each closed its socket with 1011.",
		}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "foyer_errors_total", Help: "Errors told to clients, by transport (http, ws) and error code.",
		}, []string{"transport", "code"}),
		joins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "foyer_joins_total", Help: "Shoppers' joins, by outcome: placed (queued or prequeued now), answered (told a proof-of-work challenge, or the place it had), refused.",
		}, []string{"outcome"}),
		checkouts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "foyer_checkouts_total", Help: "Checkouts and redeems, by kind (checkout, redeem) and outcome (confirmed, replayed, refused).",
		}, []string{"kind", "outcome"}),
	}
	m.ceiling = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "foyer_shopper_connections_limit", Help: "The node's ceiling on shopper sockets (FOYER_MAX_CONNECTIONS); 0 for none.",
	})
	m.registry.MustRegister(m.panics, m.errors, m.joins, m.checkouts, m.ceiling,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Transports an error is told over, the errors' transport label.
const (
	overHTTP = "http"
	overWS   = "ws"
)

// Registerer is the node's registry, for the series of the parts the
// composition root wires in (Redis's calls, the admitter): they are served
// with the node's own on the ops port.
func (s *Server) Registerer() prometheus.Registerer { return s.metrics.registry }

// countJoin counts a join by its outcome.
func (s *Server) countJoin(placed bool, err error) {
	outcome := "answered"
	switch {
	case err != nil:
		outcome = "refused"
	case placed:
		outcome = "placed"
	}
	s.metrics.joins.WithLabelValues(outcome).Inc()
}

// countCheckout counts a checkout or a redeem (kind) by how its request was
// answered: a success replayed from its stored answer, a success, or a
// refusal (whose code errors counted).
func (s *Server) countCheckout(kind string, c *gin.Context) {
	outcome := "refused"
	switch {
	case !c.Writer.Written(): // it panicked: the recovery answers 500 after this runs
	case c.Writer.Status() >= 300:
	case c.Writer.Header().Get("Idempotent-Replayed") == "true":
		outcome = "replayed"
	default:
		outcome = "confirmed"
	}
	s.metrics.checkouts.WithLabelValues(kind, outcome).Inc()
}

// count counts an error told to a client over transport.
func (s *Server) count(transport string, p problem) {
	s.metrics.errors.WithLabelValues(transport, p.code).Inc()
}

// told finds what to tell a client about err from the one error table, and
// counts it under its code.
func (s *Server) told(transport string, err error) problem {
	p := problemFor(err)
	s.count(transport, p)
	return p
}
