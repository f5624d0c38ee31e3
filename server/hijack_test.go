package server

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/gin-gonic/gin"
)

// A client may send its first message in the same packet as its upgrade
// request; net/http has then read it already, and the small buffers must
// not lose it.
func TestAMessageSentWithTheUpgradeRequestIsNotLost(t *testing.T) {
	gin.SetMode(gin.TestMode)
	r := gin.New()
	r.GET("/ws", func(c *gin.Context) {
		ws, err := websocket.Accept(&smallBuffers{ResponseWriter: c.Writer}, c.Request, nil)
		if err != nil {
			return
		}
		defer ws.CloseNow()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, msg, err := ws.Read(ctx)
		if err != nil {
			return
		}
		ws.Write(ctx, websocket.MessageText, append([]byte("echo:"), msg...))
	})
	srv := httptest.NewServer(r)
	defer srv.Close()

	conn, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	upgrade := "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
	// A masked text frame "hello" (mask key 0: the payload goes as is).
	frame := []byte{0x81, 0x85, 0, 0, 0, 0, 'h', 'e', 'l', 'l', 'o'}
	if _, err := conn.Write(append([]byte(upgrade), frame...)); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade answered %d", resp.StatusCode)
	}
	head := make([]byte, 2)
	if _, err := br.Read(head[:1]); err != nil {
		t.Fatal(err)
	}
	if _, err := br.Read(head[1:]); err != nil {
		t.Fatal(err)
	}
	payload := make([]byte, head[1]&0x7f)
	for n := 0; n < len(payload); {
		k, err := br.Read(payload[n:])
		if err != nil {
			t.Fatalf("read echo: %v", err)
		}
		n += k
	}
	if string(payload) != "echo:hello" {
		t.Fatalf("echo %q, want %q", payload, "echo:hello")
	}
}
