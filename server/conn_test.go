package server

import (
	"context"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/gin-gonic/gin"
)

// A socket closed while it opens (its room would not take it, the node
// drains) is still sent what it was told, its welcome first, with the
// session made for it, and then the close: nothing a writer could have
// sent is lost to the wait.
func TestASocketClosedWhileItOpensIsToldWhatItWasToldThenClosed(t *testing.T) {
	gin.SetMode(gin.TestMode)
	h := &hub{writers: newWritePool(2), metrics: newMetrics()}
	defer h.writers.stop()
	r := gin.New()
	r.GET("/ws", func(c *gin.Context) {
		upgrade := &smallBuffers{ResponseWriter: c.Writer}
		ws, err := websocket.Accept(upgrade, c.Request, nil)
		if err != nil {
			return
		}
		conn := newConn(ws, upgrade.conn, "v_closed", netip.Addr{}, h, time.Minute)
		conn.enqueue([]byte(`{"type":"welcome"}`))
		conn.enqueue([]byte(`{"type":"error","code":"unavailable"}`))
		conn.close(websocket.StatusTryAgainLater, "try again")
		conn.letOut() // as open's deferred call does: the socket is closed already
	})
	srv := httptest.NewServer(r)
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
