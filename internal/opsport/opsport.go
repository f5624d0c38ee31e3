// Package opsport serves what is for operators and never for the public:
// a process's Prometheus metrics at /metrics and the Go runtime's profiles
// under /debug/pprof/ (CPU at profile, an execution trace at trace, and
// every named profile: heap, goroutine, allocs, ...; heap?gc=1 collects
// garbage first, which is how the bench reads what holding its shoppers
// costs). It checks no token and counts against no limit, so it is served
// on a listener of its own that only operators reach (loopback by default),
// never on the public one. Gateways and order workers each have one.
package opsport

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Off is the address setting that serves nothing.
const Off = "off"

// Handler serves metrics from g and the Go profiles.
func Handler(g prometheus.Gatherer) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	return mux
}

// Port is an ops port listening.
type Port struct {
	listener net.Listener
	srv      *http.Server
}

// Listen listens on addr for h; setting names the address's variable in
// errors. Off, or an empty address (a config built by hand), serves
// nothing: Listen returns nil then, and a nil *Port does nothing.
func Listen(addr, setting string, h http.Handler) (*Port, error) {
	if addr == "" || addr == Off {
		return nil, nil
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", setting, err)
	}
	return &Port{listener: l, srv: &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}}, nil
}

// Addr is where the port listens; empty for none.
func (p *Port) Addr() string {
	if p == nil {
		return ""
	}
	return p.listener.Addr().String()
}

// Serve serves until Close; it returns nil then.
func (p *Port) Serve() error {
	if p == nil {
		return nil
	}
	if err := p.srv.Serve(p.listener); !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve the ops port: %w", err)
	}
	return nil
}

// Close stops serving at once: a profile being taken holds nothing up.
// It closes the listener of a port never served too.
func (p *Port) Close() {
	if p == nil {
		return
	}
	p.srv.Close()
	p.listener.Close()
}
