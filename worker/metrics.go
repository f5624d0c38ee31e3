package worker

import (
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the order worker's own series (Config.Registerer): what became
// of the orders, the time Postgres took for them, and the messages given up
// on. Watermill's router metrics and the streams' lag sit beside them. A
// nil *metrics counts nothing (a worker built without a registry).
type metrics struct {
	handled  *prometheus.CounterVec // confirmations handled, by their order's status
	settled  *prometheus.CounterVec // orders settled, by the status they were settled to
	postgres *prometheus.HistogramVec
	poisoned prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		handled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "foyer_worker_orders_total", Help: "Confirmations the order workers handled, by the status of their order (pending_payment, paid for a redeem); a redelivery counts again.",
		}, []string{"status"}),
		settled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "foyer_worker_orders_settled_total", Help: "Orders settled by their payment, by the status they took (paid, cancelled).",
		}, []string{"status"}),
		postgres: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "foyer_postgres_seconds", Help: "The order workers' Postgres transactions, by what they do (write_orders, mark_paid, cancel).",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"op"}),
		poisoned: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "foyer_worker_poisoned_total", Help: "Messages moved to the poison topic after every retry, for an operator.",
		}),
	}
	for _, c := range []prometheus.Collector{m.handled, m.settled, m.postgres, m.poisoned} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *metrics) ordersHandled(status string) {
	if m != nil {
		m.handled.WithLabelValues(status).Inc()
	}
}

func (m *metrics) ordersSettled(status string, n int) {
	if m != nil && n > 0 {
		m.settled.WithLabelValues(status).Add(float64(n))
	}
}

// timed observes how long a Postgres transaction op took since start.
func (m *metrics) timed(op string, start time.Time) {
	if m != nil {
		m.postgres.WithLabelValues(op).Observe(time.Since(start).Seconds())
	}
}

// countingPublisher counts the messages the poison middleware publishes.
type countingPublisher struct {
	message.Publisher
	published prometheus.Counter
}

func (p countingPublisher) Publish(topic string, msgs ...*message.Message) error {
	err := p.Publisher.Publish(topic, msgs...)
	if err == nil {
		p.published.Add(float64(len(msgs)))
	}
	return err
}
