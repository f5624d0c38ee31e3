package app_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/foyerhq/foyer/internal/shopperclient"
)

// dialRaw opens a WebSocket to a sale with the given subprotocols, below the
// shopper client, to send what no good client would.
func dialRaw(t *testing.T, ctx context.Context, sys *system, saleID string, subprotocols ...string) *websocket.Conn {
	t.Helper()
	sess, err := shopperclient.New(sys.URL).NewSession(ctx)
	if err != nil {
		t.Fatal(err)
	}
	url := "ws" + strings.TrimPrefix(sys.URL, "http") + "/v1/sales/" + saleID + "/ws?session=" + sess.Token
	ws, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: subprotocols})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.CloseNow() })
	return ws
}

// closeCode reads until the connection closes and returns its close code.
func closeCode(ctx context.Context, ws *websocket.Conn) websocket.StatusCode {
	for {
		if _, _, err := ws.Read(ctx); err != nil {
			return websocket.CloseStatus(err)
		}
	}
}

func TestBadFramesGetTheirDocumentedCloseCodes(t *testing.T) {
	sys := startSystem(t)
	saleID := sys.createSale(t, map[string]any{"sku": "W-1", "name": "Frames", "stock": 5, "outflow_per_second": stalled})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	t.Run("a message over 4 KiB closes with 1009", func(t *testing.T) {
		ws := dialRaw(t, ctx, sys, saleID, "foyer.v1")
		big := `{"type":"join","pad":"` + strings.Repeat("x", 5000) + `"}`
		if err := ws.Write(ctx, websocket.MessageText, []byte(big)); err != nil {
			t.Fatal(err)
		}
		if code := closeCode(ctx, ws); code != websocket.StatusMessageTooBig {
			t.Errorf("close code %d, want 1009", code)
		}
	})
	t.Run("an unknown protocol version closes with 4002", func(t *testing.T) {
		ws := dialRaw(t, ctx, sys, saleID, "foyer.v2")
		_, data, err := ws.Read(ctx)
		if err != nil || !strings.Contains(string(data), `"unsupported_version"`) {
			t.Errorf("first message %s (%v), want error unsupported_version", data, err)
		}
		if code := closeCode(ctx, ws); code != 4002 {
			t.Errorf("close code %d, want 4002", code)
		}
	})
	t.Run("no subprotocol is taken as v1", func(t *testing.T) {
		ws := dialRaw(t, ctx, sys, saleID)
		_, data, err := ws.Read(ctx)
		if err != nil || !strings.Contains(string(data), `"welcome"`) {
			t.Errorf("first message %s (%v), want welcome", data, err)
		}
	})
	if n := sys.countOrders(t, saleID); n != 0 {
		t.Errorf("bad frames made %d orders", n)
	}
}

func TestASilentConnectionIsClosedAsIdleAndAPingingOneIsNot(t *testing.T) {
	sys := startNodes(t, 1, map[string]string{"FOYER_WS_IDLE_TIMEOUT": "2s"})
	saleID := sys.createSale(t, map[string]any{"sku": "W-2", "name": "Idle", "stock": 5, "outflow_per_second": stalled})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	silent := dialRaw(t, ctx, sys, saleID, "foyer.v1")
	pinging := dialRaw(t, ctx, sys, saleID, "foyer.v1")
	closed := make(chan websocket.StatusCode, 1)
	go func() { closed <- closeCode(ctx, silent) }()
	pongs := make(chan struct{}, 100) // the clock sync's answer, closed when the connection is
	go func() {
		for {
			_, data, err := pinging.Read(ctx)
			if err != nil {
				close(pongs)
				return
			}
			if strings.Contains(string(data), `"time"`) {
				pongs <- struct{}{}
			}
		}
	}()
	// Ping until the silent one is closed: the pinging one must outlive
	// it. A ping is answered only after a quiet spell, so a clock sync
	// asked once the silent one is closed shows the pinging one is open.
	// The idle close comes up to two seconds after the timeout (the rooms'
	// sweep, internal/fanout/idle.go): pinged every 700 ms, the pings and
	// the clock sync stay within a connection's ten messages in ten
	// seconds, which would leave the clock sync unanswered.
	for {
		if err := pinging.Write(ctx, websocket.MessageText, []byte(`{"type":"ping"}`)); err != nil {
			t.Fatal(err)
		}
		select {
		case code := <-closed:
			if code != 4009 {
				t.Errorf("the silent connection closed with %d, want 4009", code)
			}
			if err := pinging.Write(ctx, websocket.MessageText, []byte(`{"type":"time","client_time":1}`)); err != nil {
				t.Fatal(err)
			}
			if _, ok := <-pongs; !ok {
				t.Fatal("the pinging connection was closed")
			}
			var out struct{ Error struct{ Code string } }
			if status := sys.call(t, http.MethodGet, "/healthz", "", nil, &out); status != http.StatusOK {
				t.Errorf("healthz %d", status)
			}
			return
		case _, open := <-pongs:
			if !open {
				t.Fatal("the pinging connection was closed")
			}
		case <-time.After(700 * time.Millisecond):
		}
	}
}

func TestBrowsersMayConnectOnlyFromAllowedOrigins(t *testing.T) {
	sys := startNodes(t, 1, map[string]string{"FOYER_ALLOWED_ORIGINS": "shop.example.com"})
	saleID := sys.createSale(t, map[string]any{"sku": "W-3", "name": "Origins", "stock": 5, "outflow_per_second": stalled})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	sess, err := shopperclient.New(sys.URL).NewSession(ctx)
	if err != nil {
		t.Fatal(err)
	}
	url := "ws" + strings.TrimPrefix(sys.URL, "http") + "/v1/sales/" + saleID + "/ws?session=" + sess.Token
	for origin, allowed := range map[string]bool{
		"https://shop.example.com":  true,
		"https://evil.example.com":  false,
		"https://shop.example.com.": false,
	} {
		ws, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{
			Subprotocols: []string{"foyer.v1"}, HTTPHeader: http.Header{"Origin": {origin}},
		})
		if allowed {
			if err != nil {
				t.Errorf("origin %s refused: %v", origin, err)
				continue
			}
			ws.CloseNow()
			continue
		}
		if err == nil {
			ws.CloseNow()
			t.Errorf("origin %s was let in", origin)
		} else if resp == nil || resp.StatusCode != http.StatusForbidden {
			t.Errorf("origin %s: %v, want 403", origin, err)
		}
	}
}
