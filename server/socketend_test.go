package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/foyerhq/foyer/internal/wire"
)

// TestASocketEndIsAFailureOnlyWhenThePeerDidNotGoAway: the one place that
// sorts why a socket ended tells a client leaving (normally, going away,
// the network dropping it) and this node's own closes apart from real
// failures, which alone are logged.
func TestASocketEndIsAFailureOnlyWhenThePeerDidNotGoAway(t *testing.T) {
	closed := func(code websocket.StatusCode) error {
		return fmt.Errorf("read: %w", websocket.CloseError{Code: code, Reason: "test"})
	}
	for _, tc := range []struct {
		name       string
		err        error
		closedHere bool
		want       socketEnd
	}{
		{"normal closure", closed(websocket.StatusNormalClosure), false, endPeerLeft},
		{"going away", closed(websocket.StatusGoingAway), false, endPeerLeft},
		{"no close frame, EOF", fmt.Errorf("read frame header: %w", io.EOF), false, endPeerLeft},
		{"connection reset", fmt.Errorf("read: %w", syscall.ECONNRESET), false, endPeerLeft},
		{"context canceled", context.Canceled, false, endPeerLeft},
		{"message too big", closed(websocket.StatusMessageTooBig), false, endTooBig},
		{"closed here, idle", closed(4009), true, endClosedHere},
		{"closed here, then a reset", syscall.ECONNRESET, true, endClosedHere},
		{"protocol error", closed(websocket.StatusProtocolError), false, endFailed},
		{"something else", errors.New("tls: bad record MAC"), false, endFailed},
	} {
		if got := endOf(tc.err, tc.closedHere); got != tc.want {
			t.Errorf("%s: endOf = %d, want %d", tc.name, got, tc.want)
		}
	}
}

// TestAClientGoneWithoutACloseFrameIsNotSentOne: a client whose stream
// ends without a close frame (here it shuts its sending half, so what the
// node still writes can be seen) is closed at once, with nothing written
// after: a close frame to a client gone cost a write and a goroutine per
// shopper leaving so. A client's close frame is still answered with one.
func TestAClientGoneWithoutACloseFrameIsNotSentOne(t *testing.T) {
	n := startTestNode(t, nil)
	n.loadSale(t, "s_gone", 10, false)
	ctx := testContext(t)
	var raw *net.TCPConn
	client := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if tc, ok := c.(*net.TCPConn); ok {
			raw = tc
		}
		return c, err
	}}}
	url := "ws" + strings.TrimPrefix(n.url, "http") + "/v1/sales/s_gone/ws?session=new"
	ws, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{wire.Subprotocol}, HTTPClient: client})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	if _, _, err := ws.Read(ctx); err != nil { // the welcome: the node's reader is running
		t.Fatal(err)
	}
	if err := raw.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	raw.SetReadDeadline(time.Now().Add(10 * time.Second))
	after, err := io.ReadAll(raw)
	if err != nil {
		t.Fatalf("reading what the node wrote once the client went: %v (the node did not close the connection)", err)
	}
	for len(after) >= 2 {
		opcode, size := after[0]&0x0f, int(after[1]&0x7f)
		if opcode == 0x8 {
			t.Fatalf("the node wrote a close frame to a client gone: % x", after)
		}
		if size > 125 || len(after) < 2+size {
			break // a message the welcome left (pushes are not the test's): not a close frame's head
		}
		after = after[2+size:]
	}

	// A client that closes with a close frame is answered with one.
	polite := n.dial(t, ctx, "s_gone", "session=new")
	polite.expect(ctx, "welcome")
	if err := polite.ws.Close(websocket.StatusNormalClosure, "bye"); err != nil {
		t.Errorf("a client's close was not answered with a close frame: %v", err)
	}
}
