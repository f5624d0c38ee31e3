package app_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/foyerhq/foyer/internal/testenv"
)

// switchingProxy forwards TCP connections to the current backend; cut sends
// new connections to another and drops the open ones without a close frame,
// as a node that dies does to its shoppers (they see 1006).
type switchingProxy struct {
	ln      net.Listener
	mu      sync.Mutex
	backend string
	open    map[net.Conn]struct{}
}

func newSwitchingProxy(t *testing.T, backend string) *switchingProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &switchingProxy{ln: ln, backend: backend, open: map[net.Conn]struct{}{}}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); p.cut(""); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { p.serve(c) })
		}
	})
	return p
}

func (p *switchingProxy) URL() string { return "http://" + p.ln.Addr().String() }

func (p *switchingProxy) serve(c net.Conn) {
	p.mu.Lock()
	backend := p.backend
	p.mu.Unlock()
	up, err := net.Dial("tcp", backend)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	p.open[c], p.open[up] = struct{}{}, struct{}{}
	p.mu.Unlock()
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(up, c); done <- struct{}{} }()
	go func() { _, _ = io.Copy(c, up); done <- struct{}{} }()
	<-done
	c.Close()
	up.Close()
	<-done
	p.mu.Lock()
	delete(p.open, c)
	delete(p.open, up)
	p.mu.Unlock()
}

// cut points new connections at backend and drops every open one.
func (p *switchingProxy) cut(backend string) {
	p.mu.Lock()
	if backend != "" {
		p.backend = backend
	}
	conns := make([]net.Conn, 0, len(p.open))
	for c := range p.open {
		conns = append(conns, c)
	}
	p.mu.Unlock()
	for _, c := range conns {
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0) // a reset, not a goodbye
		}
		c.Close()
	}
}

// The library keeps a shopper's place through what a sale meets: the node it
// was on dies (it reconnects through the proxy to the other node, same
// place), Redis restarts (degraded, then recovered, without reconnecting),
// and WebSockets are blocked (it falls back to the event stream). The Node
// test asks for each fault through a control server of this test.
func TestJSClientKeepsItsPlaceThroughANodeDeathARedisRestartAndABlockedWebSocket(t *testing.T) {
	buildJSClient(t)
	rs := testenv.NewRedis(t, testenv.WithAppendOnly())
	sys := startNodesOn(t, rs, 1, nil)
	second := sys.startGateway(t, "node-2")
	proxy := newSwitchingProxy(t, strings.TrimPrefix(sys.URL, "http://"))
	saleID := sys.createSale(t, map[string]any{"sku": "JS-2", "name": "JS resilience", "stock": 2, "outflow_per_second": stalled})
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()

	faults := map[string]func() error{
		"/kill-node": func() error {
			proxy.cut(strings.TrimPrefix(second.URL, "http://"))
			return nil
		},
		"/stop-redis":  rs.Stop,
		"/start-redis": func() error { return rs.Restart(ctx) },
	}
	control := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fault, ok := faults[r.URL.Path]
		if !ok || r.Method != http.MethodPost {
			http.Error(w, "no such fault", http.StatusNotFound)
			return
		}
		t.Logf("control: %s", r.URL.Path)
		if err := fault(); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		if err := control.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Error(err)
		}
	}()
	t.Cleanup(func() { _ = control.Close() })

	runNodeTests(t, ctx, []string{
		"FOYER_URL=" + proxy.URL(), "FOYER_SALE_IDS=" + saleID, "FOYER_CONTROL_URL=http://" + ln.Addr().String(),
	}, "test/integration/resilience.test.mjs")
}
