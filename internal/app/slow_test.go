package app_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/foyerhq/foyer/internal/shopperclient"
	"github.com/foyerhq/foyer/waitingroom"
)

// dialStalled connects a shopper whose socket takes in almost nothing (a
// 4 KiB receive buffer) and which never reads after the welcome: the slow
// client of the protocol, as it looks from the server.
func dialStalled(t *testing.T, ctx context.Context, sys *system, saleID string) (*websocket.Conn, string) {
	t.Helper()
	sess, err := shopperclient.New(sys.URL).NewSession(ctx)
	if err != nil {
		t.Fatal(err)
	}
	dialer := &net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		c.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
		return serr
	}}
	client := &http.Client{Transport: &http.Transport{DialContext: dialer.DialContext}}
	url := "ws" + strings.TrimPrefix(sys.URL, "http") + "/v1/sales/" + saleID + "/ws?session=" + sess.Token
	ws, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{"foyer.v1"}, HTTPClient: client})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.CloseNow() })
	if _, _, err := ws.Read(ctx); err != nil { // the welcome
		t.Fatal(err)
	}
	return ws, sess.ShopperID
}

// TestASlowClientIsCutOffWithoutDelayingTheOthers floods a sale with
// operator messages while one client does not read. Once the kernel's
// buffers and its own queue are full, the server cuts it off with 4008;
// twenty reading shoppers meanwhile receive every message.
func TestASlowClientIsCutOffWithoutDelayingTheOthers(t *testing.T) {
	sys := startSystem(t)
	saleID := sys.createSale(t, map[string]any{"sku": "S-1", "name": "Slow", "stock": 5, "outflow_per_second": stalled})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var readers []*inbox
	for range 20 {
		conn, _ := connectNew(t, ctx, sys.URL, saleID)
		in := listen(conn)
		if _, err := in.wait(ctx, "welcome"); err != nil {
			t.Fatal(err)
		}
		readers = append(readers, in)
	}
	slow, slowID := dialStalled(t, ctx, sys, saleID)

	// Until the server gives up on the slow client (its departure is
	// recorded), send messages in batches.
	text := strings.Repeat("x", 480)
	sent := 0
	away := func() bool {
		_, err := sys.Redis.ZScore(ctx, waitingroom.Keys(saleID).Away, slowID).Result()
		return err == nil
	}
	for !away() {
		if sent >= 20000 {
			t.Fatalf("the slow client was never cut off after %d messages", sent)
		}
		for range 50 {
			sent++
			sys.admin(t, http.MethodPost, "/v1/admin/sales/"+saleID+"/messages", map[string]any{"text": fmt.Sprint(sent, text)}, http.StatusOK)
		}
	}
	// Its socket buffer is full, so no close frame could reach it: the
	// connection is dropped (docs/protocol.md, 4008).
	if code := closeCode(ctx, slow); code != -1 {
		t.Errorf("the slow client was closed with %d, want the connection dropped", code)
	}
	last := fmt.Sprint(sent, text)
	for i, in := range readers {
		for {
			m, err := in.next(ctx, "state")
			if err != nil {
				t.Fatalf("reader %d: %v", i, err)
			}
			if m.Message == last {
				break
			}
		}
	}
	t.Logf("cut off after %d messages of 500 bytes; all 20 readers got all of them", sent)
}
