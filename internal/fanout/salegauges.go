package fanout

import (
	"github.com/prometheus/client_golang/prometheus"
)

// saleGauges are the per-sale gauges of the sales this node follows (those
// with a shopper connected here), read from the rooms when scraped: what
// each room's last tick and events told it. Every node following a sale
// reports the same figures for it, so a dashboard takes their max by sale.
// The count of series is bounded by the sales followed.
type saleGauges struct {
	h                                *Hub
	waiting, units, connected, state *prometheus.Desc
}

func newSaleGauges(h *Hub) saleGauges {
	return saleGauges{h: h,
		waiting: prometheus.NewDesc("foyer_sale_waiting", "Shoppers waiting in a sale's queue, as this node last read it.",
			[]string{"sale"}, nil),
		units: prometheus.NewDesc("foyer_sale_units", "A sale's units by state (available, held, sold), as this node last read them.",
			[]string{"sale", "state"}, nil),
		connected: prometheus.NewDesc("foyer_sale_connections", "Shopper sockets of a sale open on this node.",
			[]string{"sale"}, nil),
		state: prometheus.NewDesc("foyer_sale_state", "1 for a sale's state as this node last read it (scheduled, open, paused, sold_out, ended, ...).",
			[]string{"sale", "state"}, nil),
	}
}

// Describe implements prometheus.Collector.
func (g saleGauges) Describe(ch chan<- *prometheus.Desc) {
	ch <- g.waiting
	ch <- g.units
	ch <- g.connected
	ch <- g.state
}

// Collect implements prometheus.Collector: the rooms are listed under the
// hub's lock, then each read under its own, one at a time, so a scrape
// holds up no room for longer than one read.
func (g saleGauges) Collect(ch chan<- prometheus.Metric) {
	for _, r := range g.h.rooms() {
		r.mu.Lock()
		waiting, stock, conns, state := r.waiting, r.stock, len(r.conns), r.state
		r.mu.Unlock()
		ch <- prometheus.MustNewConstMetric(g.state, prometheus.GaugeValue, 1, r.id, string(state))
		ch <- prometheus.MustNewConstMetric(g.waiting, prometheus.GaugeValue, float64(waiting), r.id)
		ch <- prometheus.MustNewConstMetric(g.units, prometheus.GaugeValue, float64(stock.Left), r.id, "available")
		ch <- prometheus.MustNewConstMetric(g.units, prometheus.GaugeValue, float64(stock.Held), r.id, "held")
		ch <- prometheus.MustNewConstMetric(g.units, prometheus.GaugeValue, float64(stock.Sold), r.id, "sold")
		ch <- prometheus.MustNewConstMetric(g.connected, prometheus.GaugeValue, float64(conns), r.id)
	}
}
