package bench

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/foyerhq/foyer/internal/loadgen"
)

// serveBare runs a bare server in this process and returns its URL.
func serveBare(t *testing.T, ctx context.Context, tuned bool) string {
	t.Helper()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- ServeBare(ctx, "127.0.0.1:0", tuned, pw); pw.Close() }()
	t.Cleanup(func() {
		if err := <-done; err != nil {
			t.Errorf("bare server: %v", err)
		}
	})
	lines := bufio.NewReader(pr)
	line, err := lines.ReadString('\n')
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "listening ")
	if err != nil || !ok {
		t.Fatalf("the bare server said %q, %v", line, err)
	}
	go io.Copy(io.Discard, lines)
	return "http://" + addr
}

// Both bare servers, tuned to the gateway's buffer sizes or not, hold
// their clients, read what they send (a message larger than the small read
// buffer too) and broadcast to all of them.
func TestTheBareServersHoldReadAndBroadcastWithEitherBuffers(t *testing.T) {
	for _, tuned := range []bool{false, true} {
		t.Run(map[bool]string{false: "default", true: "tuned"}[tuned], func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			url := serveBare(t, ctx, tuned)
			crowd, _, err := connectBare(ctx, url, 3, 3, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer crowd.close()
			if err := crowd.conns[0].Write(ctx, websocket.MessageText, []byte(`{"type":"ping","pad":"`+strings.Repeat("x", 3000)+`"}`)); err != nil {
				t.Fatalf("a large message to the bare server: %v", err)
			}
			// A client's dial ends with the server's answer, before the
			// server has put the connection in its set: the broadcast waits
			// for the server to count all three (it once reached two).
			poll := time.NewTicker(10 * time.Millisecond)
			defer poll.Stop()
			for {
				if g, err := loadgen.ScrapeGateways(ctx, []string{url}, false); err == nil && g.Connections == 3 {
					break
				}
				select {
				case <-ctx.Done():
					t.Fatal("the bare server never counted its 3 connections")
				case <-poll.C:
				}
			}
			if err := broadcastBare(ctx, []string{url}); err != nil {
				t.Fatal(err)
			}
			// The readers note each arrival under a lock; the test polls it
			// as the crowd's own report does.
			for rounds := crowd.rounds(); len(rounds) == 0 || len(rounds[0]) < 3; rounds = crowd.rounds() {
				select {
				case <-ctx.Done():
					t.Fatalf("the broadcast reached %v, want all 3 connections", rounds)
				case <-poll.C:
				}
			}
			if rounds := crowd.rounds(); len(rounds) != 1 || len(rounds[0]) != 3 {
				t.Errorf("the broadcast reached %v, want all 3 connections once", rounds)
			}
			g, err := loadgen.ScrapeGateways(ctx, []string{url}, false)
			if err != nil || g.Connections != 3 {
				t.Errorf("the bare server's metrics %+v, %v; want 3 connections", g, err)
			}
		})
	}
}

// The bare clients send the product client's ping on the interval they
// are given, each from its own connect, as the load generator's shoppers do.
func TestBareClientsPingAsTheShoppersDo(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	pinged := make(chan struct{}, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		for pings := 0; ; {
			_, msg, err := c.Read(r.Context())
			if err != nil {
				return
			}
			if string(msg) != `{"type":"ping"}` {
				t.Errorf("a bare client sent %q, want the product's ping", msg)
			}
			if pings++; pings == 2 {
				pinged <- struct{}{}
			}
		}
	}))
	defer srv.Close()
	crowd, _, err := connectBare(ctx, srv.URL, 2, 2, 10*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer crowd.close()
	for range 2 {
		select {
		case <-pinged:
		case <-ctx.Done():
			t.Fatal("the bare clients did not each ping twice")
		}
	}
	var printed strings.Builder
	if err := ServeBareCrowd(ctx, []string{srv.URL, "1", "1", "often"}, strings.NewReader(""), &printed); err == nil ||
		!strings.Contains(err.Error(), "PING_EVERY") || printed.Len() != 0 {
		t.Errorf("a crowd told to ping %q: %v, printed %q; want an error naming PING_EVERY, nothing printed", "often", err, printed.String())
	}
}
