package fanout

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// corkingWriter hands a WebSocket upgrade's connection over corkable, as
// the server's does (server/hijack.go).
type corkingWriter struct {
	http.ResponseWriter
	conn *Corkable
}

func (w *corkingWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	raw, brw, err := w.ResponseWriter.(http.Hijacker).Hijack()
	if err != nil {
		return nil, nil, err
	}
	w.conn = &Corkable{Conn: raw}
	brw.Writer.Reset(w.conn)
	return w.conn, brw, nil
}

// BenchmarkASocketsBatchIsWrittenCorked measures the WebSocket write path
// that every message to a shopper takes (Conn.write: a tick's stock and
// position, corked into one write), so that a change of how a Conn writes
// is weighed against it: one op is one batch of two messages.
//
//	go test -run '^$' -bench SocketsBatch ./internal/fanout
func BenchmarkASocketsBatchIsWrittenCorked(b *testing.B) {
	h := &Hub{writers: newWritePool(1), metrics: newMetrics(nil)}
	conns := make(chan *Conn, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		cw := &corkingWriter{ResponseWriter: w}
		ws, err := websocket.Accept(cw, req, nil)
		if err != nil {
			return
		}
		conns <- NewConn(ws, cw.conn, "v_bench", netip.Addr{}, h, time.Hour)
	}))
	b.Cleanup(srv.Close)
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	client, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { client.CloseNow() })
	go func() { // the client reads everything, as a live shopper does
		for {
			if _, _, err := client.Read(ctx); err != nil {
				return
			}
		}
	}()
	c := <-conns
	batch := [][]byte{[]byte(`{"type":"stock","total":100,"left":40,"held":10,"sold":50}`), []byte(`{"type":"position","position":1234,"ahead":1233,"waiting":5000}`)}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := c.write(batch); err != nil {
			b.Fatal(err)
		}
	}
}
