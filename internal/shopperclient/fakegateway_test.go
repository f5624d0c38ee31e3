package shopperclient

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/foyerhq/foyer/internal/wire"
)

// fakeGateway is a gateway node whose WebSocket a test drives by hand: it
// hands every connection to the test, answers "time" and "ping" itself, and
// passes on the other commands the client sends.
type fakeGateway struct {
	node     string
	accepted chan<- *fakeConn // every connection, for the test
	sessions *atomic.Int64    // sessions issued, shared by the nodes of a deployment
	clock    fakeClock
}

// fakeClock is how a fakeGateway answers "time" requests.
type fakeClock struct {
	skew   time.Duration // how far the server's clock is ahead
	silent bool          // no answers at all, for tests that count messages
}

// fakeConn is one client connection to a fakeGateway.
type fakeConn struct {
	node     string
	token    string // the session the client connected with
	ws       *websocket.Conn
	commands chan string // the types of the client's messages but time and ping
}

// fakeDeployment starts one fake gateway per node name, sharing a session
// counter and one channel of accepted connections.
func fakeDeployment(t *testing.T, clock fakeClock, nodes ...string) ([]string, <-chan *fakeConn) {
	t.Helper()
	accepted := make(chan *fakeConn, 16)
	sessions := new(atomic.Int64)
	var urls []string
	for _, node := range nodes {
		gw := &fakeGateway{node: node, accepted: accepted, sessions: sessions, clock: clock}
		srv := httptest.NewServer(gw)
		t.Cleanup(srv.Close)
		urls = append(urls, srv.URL)
	}
	return urls, accepted
}

func (g *fakeGateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost && r.URL.Path == "/v1/sessions" {
		n := g.sessions.Add(1)
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(Session{ShopperID: fmt.Sprint("v_", n), Token: fmt.Sprint("token-", n)})
		return
	}
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{wire.Subprotocol}})
	if err != nil {
		return
	}
	c := &fakeConn{node: g.node, token: r.URL.Query().Get("session"), ws: ws, commands: make(chan string, 16)}
	g.accepted <- c
	ctx := context.Background() // the connection ends when the test closes it, or the client goes
	for {
		_, data, err := ws.Read(ctx)
		if err != nil {
			close(c.commands)
			return
		}
		var m struct {
			Type       string `json:"type"`
			ClientTime int64  `json:"client_time"`
		}
		json.Unmarshal(data, &m)
		switch m.Type {
		case "time":
			if g.clock.silent {
				continue
			}
			now := time.Now().Add(g.clock.skew).UnixMilli()
			ws.Write(ctx, websocket.MessageText, fmt.Appendf(nil, `{"type":"time","client_time":%d,"server_time":%d}`, m.ClientTime, now))
		case "ping":
			ws.Write(ctx, websocket.MessageText, []byte(`{"type":"pong"}`))
		default:
			c.commands <- m.Type
		}
	}
}

// nextConn waits for the client's next connection.
func nextConn(t *testing.T, ctx context.Context, accepted <-chan *fakeConn) *fakeConn {
	t.Helper()
	select {
	case c := <-accepted:
		return c
	case <-ctx.Done():
		t.Fatal("the shopper did not connect again")
		return nil
	}
}

func (c *fakeConn) send(t *testing.T, ctx context.Context, msg string) {
	t.Helper()
	if err := c.ws.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
		t.Fatalf("send %s to the client on %s: %v", msg, c.node, err)
	}
}

// expect waits for the client's next command and checks its type.
func (c *fakeConn) expect(t *testing.T, ctx context.Context, want string) {
	t.Helper()
	select {
	case got := <-c.commands:
		if got != want {
			t.Fatalf("the client sent %q on %s, want %q", got, c.node, want)
		}
	case <-ctx.Done():
		t.Fatalf("the client never sent %q on %s", want, c.node)
	}
}

func (c *fakeConn) close(code websocket.StatusCode) { c.ws.Close(code, "test") }
