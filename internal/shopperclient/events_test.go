package shopperclient

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/foyerhq/foyer/internal/wire"
)

// cannedStream serves body as a sale's event stream, and records the posts.
func cannedStream(t *testing.T, body string, posted chan<- string) *Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/events") || r.URL.Query().Get("stream") == "" {
			http.NotFound(w, r)
			return
		}
		if r.Method == http.MethodPost {
			b, _ := io.ReadAll(r.Body)
			posted <- r.Header.Get("Authorization") + " " + string(b)
			w.WriteHeader(http.StatusNoContent)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	c := New(srv.URL)
	c.SetWire(OverEvents)
	return c
}

// An event stream's messages come out of Next as a socket's do, comments
// skipped; its close event ends it with the close code, which a Shopper
// acts on as on a socket's; a session made for it is what its posts carry.
func TestAnEventStreamReadsAsASocketAndEndsWithItsCloseCode(t *testing.T) {
	posted := make(chan string, 1)
	c := cannedStream(t, ": heartbeat\n\n"+
		`data: {"type":"welcome","you":{"shopper_id":"v_1","session":{"token":"tok-made"}}}`+"\n\n"+
		": heartbeat\n\n"+
		`data: {"type":"position","position":3}`+"\r\n\r\n"+
		"event: close\n"+`data: {"code":4009,"reason":"idle"}`+"\n\n", posted)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	conn, err := c.Arrive(ctx, "s_1", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	for _, want := range []string{wire.MsgWelcome, wire.MsgPosition} {
		m, err := conn.Next(ctx)
		if err != nil || m.Type != want {
			t.Fatalf("read %+v, %v; want a %s", m, err, want)
		}
	}
	if err := conn.Send(ctx, map[string]string{"type": "leave"}); err != nil {
		t.Fatal(err)
	}
	if got := <-posted; got != `Bearer tok-made {"type":"leave"}` {
		t.Errorf("posted %q, want the leave with the session the welcome made", got)
	}
	_, err = conn.Next(ctx)
	if code := websocket.CloseStatus(err); code != wire.CloseIdle {
		t.Fatalf("the stream ended with %v (code %d), want close %d", err, code, wire.CloseIdle)
	}
	if rec, _ := recoveryFor(err); rec != reconnectLater {
		t.Errorf("a stream closed idle is to %s, want reconnect later", rec)
	}
}

// A stream that ends without a close event is a network failure: no close
// code, reconnect with backoff.
func TestAnEventStreamThatEndsWithoutACloseEventIsANetworkFailure(t *testing.T) {
	c := cannedStream(t, `data: {"type":"welcome"}`+"\n\n", nil)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	conn, err := c.Connect(ctx, "s_1", Session{Token: "tok"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	if _, err := conn.Next(ctx); err != nil {
		t.Fatal(err)
	}
	_, err = conn.Next(ctx)
	if !errors.Is(err, errStreamEnded) || websocket.CloseStatus(err) != -1 {
		t.Fatalf("ended with %v, want the stream ended without a close code", err)
	}
	if rec, _ := recoveryFor(err); rec != reconnectLater {
		t.Errorf("a dropped stream is to %s, want reconnect later", rec)
	}
}
