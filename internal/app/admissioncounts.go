package app

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// admissionCounts are the admitter's metrics (waitingroom.AdmissionCounts),
// on the node's registry: only the node holding a sale's lease counts its
// admissions, so summed over the nodes they are the sale's.
type admissionCounts struct {
	admitted, released prometheus.Counter
}

func newAdmissionCounts(reg prometheus.Registerer) (*admissionCounts, error) {
	c := &admissionCounts{
		admitted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "foyer_admissions_total", Help: "Shoppers let out of a queue by this node's admitter, each with a hold of one unit.",
		}),
		released: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "foyer_holds_released_total", Help: "Holds released by this node's admitter: lapsed, or their shopper away past the grace period; their units went back to the sale.",
		}),
	}
	for _, m := range []prometheus.Collector{c.admitted, c.released} {
		if err := reg.Register(m); err != nil {
			return nil, fmt.Errorf("admission metrics: %w", err)
		}
	}
	return c, nil
}

func (c *admissionCounts) Admitted(n int) { c.admitted.Add(float64(n)) }
func (c *admissionCounts) Released(n int) { c.released.Add(float64(n)) }
