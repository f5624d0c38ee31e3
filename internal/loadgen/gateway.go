package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// GatewayStats is what the gateway nodes' /metrics (on their ops ports) said, added over the
// nodes: how many shoppers they held and what holding them cost.
type GatewayStats struct {
	Connections float64 // foyer_shopper_connections
	Goroutines  float64 // go_goroutines
	HeapBytes   float64 // go_memstats_heap_alloc_bytes: live objects, right after a collection
	StackBytes  float64 // go_memstats_stack_inuse_bytes
	RSSBytes    float64 // process_resident_memory_bytes
	Dropped     float64 // foyer_slow_clients_dropped_total
	CPUSeconds  float64 // process_cpu_seconds_total
	PushWrites  float64 // foyer_writes_total{kind="push"}: a tick's counters and position alone
	NewsWrites  float64 // foyer_writes_total{kind="news"}: any other write
}

// PerConnection is the cost of each connection held in g over the idle
// nodes of before: Go memory (heap and stacks) and goroutines.
func (g GatewayStats) PerConnection(before GatewayStats) (bytes, goroutines float64) {
	conns := g.Connections - before.Connections
	if conns <= 0 {
		return 0, 0
	}
	mem := (g.HeapBytes + g.StackBytes) - (before.HeapBytes + before.StackBytes)
	return mem / conns, (g.Goroutines - before.Goroutines) / conns
}

// RSSPerConnection is the resident memory each connection held in g adds
// over the idle nodes of before: what the machine gives the process, the
// collector's headroom included, which heap and stacks leave out.
func (g GatewayStats) RSSPerConnection(before GatewayStats) float64 {
	conns := g.Connections - before.Connections
	if conns <= 0 {
		return 0
	}
	return (g.RSSBytes - before.RSSBytes) / conns
}

// CPUSince is the CPU the nodes used between the reading before and g.
func (g GatewayStats) CPUSince(before GatewayStats) time.Duration {
	return time.Duration((g.CPUSeconds - before.CPUSeconds) * float64(time.Second))
}

// ScrapeGateways reads and adds up the metrics of every node, given the base
// URLs of their ops ports (FOYER_METRICS_ADDR). With collect it has each
// node collect its garbage first (through its heap profile), so that heap in
// use is what the node really holds.
func ScrapeGateways(ctx context.Context, urls []string, collect bool) (GatewayStats, error) {
	if len(urls) == 0 {
		return GatewayStats{}, errNoMetrics
	}
	var sum GatewayStats
	for _, u := range urls {
		u = strings.TrimRight(u, "/")
		if collect {
			if err := collectGarbage(ctx, u); err != nil {
				return GatewayStats{}, err
			}
		}
		g, err := scrapeGateway(ctx, u+"/metrics")
		if err != nil {
			return GatewayStats{}, err
		}
		sum.Connections += g.Connections
		sum.Goroutines += g.Goroutines
		sum.HeapBytes += g.HeapBytes
		sum.StackBytes += g.StackBytes
		sum.RSSBytes += g.RSSBytes
		sum.Dropped += g.Dropped
		sum.CPUSeconds += g.CPUSeconds
		sum.PushWrites += g.PushWrites
		sum.NewsWrites += g.NewsWrites
	}
	return sum, nil
}

// errNoMetrics is a run told of no node's ops port.
var errNoMetrics = errors.New("no metrics URL")

// collectGarbage asks a node for its heap profile after a collection, and
// throws the profile away: the collection is what it is for.
func collectGarbage(ctx context.Context, base string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/debug/pprof/heap?gc=1", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("collect garbage on %s: %w", base, err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("collect garbage on %s: status %d", base, resp.StatusCode)
	}
	return nil
}

func scrapeGateway(ctx context.Context, url string) (GatewayStats, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return GatewayStats{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return GatewayStats{}, fmt.Errorf("scrape %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return GatewayStats{}, fmt.Errorf("scrape %s: status %d", url, resp.StatusCode)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		return GatewayStats{}, fmt.Errorf("scrape %s: %w", url, err)
	}
	value := func(name string) float64 {
		f, ok := families[name]
		if !ok || len(f.GetMetric()) == 0 {
			return 0
		}
		m := f.GetMetric()[0]
		switch {
		case m.GetGauge() != nil:
			return m.GetGauge().GetValue()
		case m.GetCounter() != nil:
			return m.GetCounter().GetValue()
		}
		return 0
	}
	writes := func(kind string) float64 {
		for _, m := range families["foyer_writes_total"].GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "kind" && l.GetValue() == kind {
					return m.GetCounter().GetValue()
				}
			}
		}
		return 0
	}
	return GatewayStats{
		Connections: value("foyer_shopper_connections"),
		Goroutines:  value("go_goroutines"),
		HeapBytes:   value("go_memstats_heap_alloc_bytes"),
		StackBytes:  value("go_memstats_stack_inuse_bytes"),
		RSSBytes:    value("process_resident_memory_bytes"),
		Dropped:     value("foyer_slow_clients_dropped_total"),
		CPUSeconds:  value("process_cpu_seconds_total"),
		PushWrites:  writes("push"),
		NewsWrites:  writes("news"),
	}, nil
}
