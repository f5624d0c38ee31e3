package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/pprof"
	"strconv"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// The bare server is the ceiling of Foyer's own stack for holding and
// pushing to WebSockets: coder/websocket with nothing on top. It accepts
// connections at /ws and keeps one goroutine per connection blocked in Read
// (as Foyer's gateway does), broadcasts a stamped message to everyone on
// POST /broadcast, and serves the same Go and process metrics as a gateway's
// ops port, under the same names and paths, so one scraper reads both.

// bareWriters is how many goroutines write a broadcast, as many as a Foyer
// gateway's shared writers.
const bareWriters = 32

// bareServer holds the open connections.
type bareServer struct {
	tuned bool // upgrade with the gateway's small buffers (baretuned.go)
	mu    sync.Mutex
	conns map[*websocket.Conn]struct{}
	open  prometheus.Gauge
}

// ServeBare is `foyer-bench bare [-tuned] ADDR`: it listens on addr, prints
// "listening ADDR" on out once it does, and serves until ctx is done. Tuned,
// it upgrades with the gateway's buffer sizes.
func ServeBare(ctx context.Context, addr string, tuned bool, out io.Writer) error {
	s := &bareServer{tuned: tuned, conns: map[*websocket.Conn]struct{}{}, open: prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "foyer_shopper_connections", Help: "WebSockets open on the bare baseline server.",
	})}
	reg := prometheus.NewRegistry()
	reg.MustRegister(s.open, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ws", s.accept)
	mux.HandleFunc("POST /broadcast", s.broadcast)
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	// The ops port's path for a heap profile after a collection, so one
	// scraper reads both servers the same way.
	mux.Handle("GET /debug/pprof/heap", pprof.Handler("heap"))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("bare server: %w", err)
	}
	fmt.Fprintf(out, "listening %s\n", ln.Addr())
	srv := &http.Server{Handler: mux}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("bare server: %w", err)
	}
	return nil
}

// accept upgrades the request and reads from the connection in a goroutine
// of its own until it closes; the handler returns, as Foyer's does, so its
// stack is freed. Every message read (the clients' pings) is read and
// answered with nothing, as the library's docs read.
func (s *bareServer) accept(w http.ResponseWriter, r *http.Request) {
	if s.tuned {
		w = smallHijack{w}
	}
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	s.mu.Lock()
	s.conns[c] = struct{}{}
	s.mu.Unlock()
	s.open.Inc()
	go func() {
		defer func() {
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
			s.open.Dec()
			c.CloseNow()
		}()
		for {
			if _, _, err := c.Read(context.Background()); err != nil {
				return
			}
		}
	}()
}

// broadcast writes one message stamped with the send time to every
// connection, encoded once and written by bareWriters goroutines.
func (s *bareServer) broadcast(w http.ResponseWriter, r *http.Request) {
	msg := bareMessage(time.Now())
	s.mu.Lock()
	conns := make([]*websocket.Conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	var wg sync.WaitGroup
	for k := range bareWriters {
		wg.Go(func() {
			for i := k; i < len(conns); i += bareWriters {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				conns[i].Write(ctx, websocket.MessageText, msg)
				cancel()
			}
		})
	}
	w.WriteHeader(http.StatusAccepted)
	wg.Wait()
}

// bareMessage is a message about the size of Foyer's stock message, whose
// first field is the send time in Unix nanoseconds.
func bareMessage(sent time.Time) []byte {
	return []byte(`{"sent":` + strconv.FormatInt(sent.UnixNano(), 10) +
		`,"type":"stock","total":1000,"left":600,"held":300,"sold":100,"all_held":false}`)
}

// sentAt reads the send time out of a bare message.
func sentAt(msg []byte) (time.Time, bool) {
	const prefix = `{"sent":`
	if len(msg) < len(prefix)+19 || string(msg[:len(prefix)]) != prefix {
		return time.Time{}, false
	}
	ns, err := strconv.ParseInt(string(msg[len(prefix):len(prefix)+19]), 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(0, ns), true
}
