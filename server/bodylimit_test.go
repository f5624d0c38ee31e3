package server

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/foyerhq/foyer/internal/livestats"
)

// bodyBound is the bound on a body's arrival in these tests: short, so a
// test of it takes a second.
const bodyBound = 300 * time.Millisecond

// startEdge serves a node's HTTP routes with nothing behind them: the
// requests these tests send are settled before any would be reached.
func startEdge(t *testing.T, cfg Config, deps Deps) *httptest.Server {
	t.Helper()
	deps.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := httptest.NewServer(New(cfg, deps).Handler())
	t.Cleanup(srv.Close)
	return srv
}

// TestACheckoutBodyTrickledInIsCutOffWithinTheBound sends a checkout's
// headers, then its body a byte every 100 ms: the node must answer 408
// too_slow and close the connection within the bound, not hold it open for
// as long as the client likes (it did: headers were bounded, bodies never).
func TestACheckoutBodyTrickledInIsCutOffWithinTheBound(t *testing.T) {
	srv := startEdge(t, Config{BodyTimeout: bodyBound}, Deps{})
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	if _, err := io.WriteString(conn, "POST /v1/sales/sale-1/checkout HTTP/1.1\r\nHost: x\r\n"+
		"Content-Type: application/json\r\nContent-Length: 200\r\n\r\n{"); err != nil {
		t.Fatal(err)
	}
	answered := make(chan *http.Response, 1)
	go func() {
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			resp = nil
		}
		answered <- resp
	}()
	trickle := time.NewTicker(100 * time.Millisecond)
	defer trickle.Stop()
	for {
		select {
		case resp := <-answered:
			took := time.Since(start)
			if resp == nil || resp.StatusCode != http.StatusRequestTimeout || !strings.Contains(readAll(resp), `"too_slow"`) {
				t.Fatalf("a trickled body got %v; want 408 too_slow", resp)
			}
			if took > bodyBound+time.Second {
				t.Errorf("cut off after %s; the bound is %s", took, bodyBound)
			}
			conn.SetReadDeadline(time.Now().Add(2 * time.Second))
			if n, err := conn.Read(make([]byte, 1)); n != 0 || err == nil {
				t.Errorf("the connection is still open after the 408 (read %d, %v)", n, err)
			}
			return
		case <-trickle.C:
			if time.Since(start) > 5*time.Second {
				t.Fatalf("a body a byte every 100 ms is still being read after 5 s; the bound is %s", bodyBound)
			}
			conn.Write([]byte(" ")) // fails once the node has closed; the answer then says why
		}
	}
}

// TestABodyTrickledToARouteThatNeverReadsItIsCutOffToo sends a body a
// byte every 100 ms to a route that answers without reading it: net/http
// drains such a body before it answers, and that drain must end within the
// bound too, whatever route the client picked.
func TestABodyTrickledToARouteThatNeverReadsItIsCutOffToo(t *testing.T) {
	srv := startEdge(t, Config{BodyTimeout: bodyBound}, Deps{})
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	if _, err := io.WriteString(conn, "POST /nowhere HTTP/1.1\r\nHost: x\r\nContent-Length: 200\r\n\r\n{"); err != nil {
		t.Fatal(err)
	}
	closed := make(chan struct{})
	go func() {
		io.Copy(io.Discard, conn) // the answer, then the end of the connection
		close(closed)
	}()
	trickle := time.NewTicker(100 * time.Millisecond)
	defer trickle.Stop()
	for {
		select {
		case <-closed:
			if took := time.Since(start); took > bodyBound+time.Second {
				t.Errorf("closed after %s; the bound is %s", took, bodyBound)
			}
			return
		case <-trickle.C:
			if time.Since(start) > 5*time.Second {
				t.Fatalf("a body a byte every 100 ms still holds its connection after 5 s; the bound is %s", bodyBound)
			}
			conn.Write([]byte(" "))
		}
	}
}

func readAll(resp *http.Response) string {
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return string(b)
}

// TestABodySentWithinTheBoundOnAKeptAliveConnectionIsServedAfterIt sends a
// whole body at once, waits longer than the bound, and sends another
// request on the same connection: the bound is on a body's arrival, and
// must not linger on the connection to cut off what comes after.
func TestABodySentWithinTheBoundOnAKeptAliveConnectionIsServedAfterIt(t *testing.T) {
	srv := startEdge(t, Config{BodyTimeout: bodyBound}, Deps{})
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	rd := bufio.NewReader(conn)
	// A body without a token: read whole, then answered 400.
	req := "POST /v1/sales/sale-1/checkout HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
	for i := range 2 {
		if _, err := io.WriteString(conn, req); err != nil {
			t.Fatal(err)
		}
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		resp, err := http.ReadResponse(rd, nil)
		if err != nil {
			t.Fatalf("request %d: %v", i+1, err)
		}
		if body := readAll(resp); resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("request %d: %d %s; want 400", i+1, resp.StatusCode, body)
		}
		time.Sleep(2 * bodyBound) // the idle time between requests is what is tested
	}
}

// quietStats is a live feed with no sales, for a test of the socket alone.
type quietStats struct{}

func (quietStats) Snapshot(context.Context) (livestats.Snapshot, error) {
	return livestats.Snapshot{}, nil
}

// TestTheDashboardSocketOutlivesTheBodyBound opens the live feed on a node
// whose body bound is 300 ms and reads pushes for longer: a WebSocket's
// connection must not keep the deadline meant for a request's body.
func TestTheDashboardSocketOutlivesTheBodyBound(t *testing.T) {
	srv := startEdge(t, Config{BodyTimeout: bodyBound, AdminToken: "t"}, Deps{Live: quietStats{}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/v1/admin/live",
		&websocket.DialOptions{Subprotocols: []string{AdminSubprotocol, AdminTokenProtocol("t")}})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	start := time.Now()
	for pushes := 0; time.Since(start) < liveEvery+2*bodyBound; pushes++ {
		if _, _, err := ws.Read(ctx); err != nil {
			t.Fatalf("the live feed ended after %s and %d pushes: %v", time.Since(start), pushes, err)
		}
	}
}
