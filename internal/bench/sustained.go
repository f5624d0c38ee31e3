package bench

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The sustained sale rate is the highest outflow a sale keeps up with:
// with a crowd waiting and stock for all of it, the outflow is stepped up,
// a fresh sale each step, and the highest step whose paid orders keep up
// and whose orders land soon enough is the rate.

// A step keeps up when its paid orders per second are at least keepUpShare
// of its outflow, admission to paid order stays under paidWithin at p99,
// and no shopper met an error.
const (
	keepUpShare = 0.95
	paidWithin  = 2 * time.Second
)

// keepsUp reports whether a step of the sustained sale rate passed.
func keepsUp(s SaleRun) bool {
	r := s.Result
	return r.Paid > 0 && s.Errors() == 0 && s.KeepUp() >= keepUpShare && r.AdmitToPaid.P99 > 0 && r.AdmitToPaid.P99 < paidWithin
}

// sustainedRate is the highest outflow among the steps that kept up, and
// whether any did.
func sustainedRate(steps []SaleRun) (float64, bool) {
	best, found := 0.0, false
	for _, s := range steps {
		if keepsUp(s) && s.Outflow > best {
			best, found = s.Outflow, true
		}
	}
	return best, found
}

// parseSteps reads the outflow steps: positive numbers, comma separated,
// each higher than the one before.
func parseSteps(list string) ([]float64, error) {
	var steps []float64
	for item := range strings.SplitSeq(list, ",") {
		item = strings.TrimSpace(item)
		v, err := strconv.ParseFloat(item, 64)
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("outflow step %q is not a positive number of shoppers a second", item)
		}
		if len(steps) > 0 && v <= steps[len(steps)-1] {
			return nil, fmt.Errorf("outflow steps %q do not rise: %v after %v", list, v, steps[len(steps)-1])
		}
		steps = append(steps, v)
	}
	return steps, nil
}

// orderCeiling is the order pipeline's raw ceiling measured in the same
// run (BenchmarkOrderPipeline: XREADGROUP + COPY into orders), zero if the
// components were not taken in.
func (r *Report) orderCeiling() float64 {
	i := slices.IndexFunc(r.Components, func(c Component) bool { return strings.HasPrefix(c.Name, "BenchmarkOrderPipeline") })
	if i < 0 {
		return 0
	}
	return r.Components[i].Metrics["raw-copy-orders/s"]
}
