package fanout

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// A socket closed while it opens (its room would not take it, the node
// drains) is still sent what it was told, its welcome first, with the
// session made for it, and then the close: nothing a writer could have
// sent is lost to the wait.
func TestASocketClosedWhileItOpensIsToldWhatItWasToldThenClosed(t *testing.T) {
	h := &Hub{writers: newWritePool(2), metrics: newMetrics(nil)}
	defer h.writers.stop()
	handler := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		ws, err := websocket.Accept(w, req, nil)
		if err != nil {
			return
		}
		conn := NewConn(ws, nil, "v_closed", netip.Addr{}, h, time.Minute)
		conn.Enqueue([]byte(`{"type":"welcome"}`))
		conn.Enqueue([]byte(`{"type":"error","code":"unavailable"}`))
		conn.Close(websocket.StatusTryAgainLater, "try again")
		conn.LetOut() // as the transport's deferred call does: the socket is closed already
	})
	srv := httptest.NewServer(handler)
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	for _, want := range []string{`{"type":"welcome"}`, `{"type":"error","code":"unavailable"}`} {
		_, msg, err := ws.Read(ctx)
		if err != nil {
			t.Fatalf("waiting for %s: %v", want, err)
		}
		if string(msg) != want {
			t.Fatalf("read %s, want %s", msg, want)
		}
	}
	if _, _, err := ws.Read(ctx); websocket.CloseStatus(err) != websocket.StatusTryAgainLater {
		t.Fatalf("after the messages: %v, want the close 1013", err)
	}
}

// TestAConnIsQuietOnlyAfterAQuietSpell: the node answers a ping only when it
// has written nothing to the connection for a while (server's
// pongAfterQuiet); a write ends the quiet.
func TestAConnIsQuietOnlyAfterAQuietSpell(t *testing.T) {
	c := &Conn{writers: newWritePool(1)}
	c.writers.epoch = c.writers.epoch.Add(-time.Minute)
	c.wroteAt.Store(int64(40 * time.Second)) // 20 s ago
	if !c.Quiet(15 * time.Second) {
		t.Error("a connection written to 20 s ago is not quiet for 15 s")
	}
	c.wroteAt.Store(int64(time.Since(c.writers.epoch)))
	if c.Quiet(15 * time.Second) {
		t.Error("a connection written to just now is quiet")
	}
}

// An open socket ended with news (a sale deleted: "ended", then 4004) is
// told the news queued for it before the close, every time: a client reads
// the close code in the light of what came before it (docs/protocol.md).
func TestAnOpenSocketClosedAfterItsNewsIsToldTheNewsFirst(t *testing.T) {
	h := &Hub{writers: newWritePool(2), metrics: newMetrics(nil)}
	h.writers.start()
	defer h.writers.stop()
	for i := range 20 {
		handler := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			ws, err := websocket.Accept(w, req, nil)
			if err != nil {
				return
			}
			conn := NewConn(ws, nil, "v_ended", netip.Addr{}, h, time.Minute)
			conn.LetOut() // open: a writer sends what is queued from now on
			conn.Enqueue([]byte(`{"type":"state","state":"ended"}`))
			conn.CloseAfterSent(4004, "the sale was deleted")
			// As a socket's reader does: read until the close ends it.
			for {
				if _, _, err := conn.Read(context.Background()); err != nil {
					return
				}
			}
		})
		srv := httptest.NewServer(handler)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/ws", nil)
		if err != nil {
			t.Fatal(err)
		}
		_, msg, err := ws.Read(ctx)
		if err != nil || string(msg) != `{"type":"state","state":"ended"}` {
			t.Fatalf("try %d: read %s (%v), want the state ended before the close", i, msg, err)
		}
		if _, _, err := ws.Read(ctx); websocket.CloseStatus(err) != 4004 {
			t.Fatalf("try %d: after the news: %v, want the close 4004", i, err)
		}
		ws.CloseNow()
		cancel()
		srv.Close()
	}
}
