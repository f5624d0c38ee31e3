package server

import (
	"net/http"
	"net/http/pprof"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// OpsHandler serves what is for operators and never for the public: the
// node's Prometheus metrics at /metrics, and the Go runtime's profiles under
// /debug/pprof/ (CPU at profile, an execution trace at trace, and every
// named profile: heap, goroutine, allocs, ...; heap?gc=1 collects garbage
// first, which is how the bench reads what holding its shoppers costs). It
// checks no token and counts against no limit, so it is served on a
// listener of its own that only operators reach (FOYER_METRICS_ADDR,
// loopback by default), never on the public one.
func (s *Server) OpsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.metrics.registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	return mux
}
