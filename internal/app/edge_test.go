package app_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/foyerhq/foyer/server"
)

// hideLength hides a body's length from the HTTP client, which then sends
// it chunked: the node learns its size only by reading it.
type hideLength struct{ io.Reader }

// send sends a request with body to the first node and returns the status
// and the error code of the answer.
func send(t *testing.T, sys *system, method, path, bearer string, body io.Reader) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, sys.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var answer struct{ Error struct{ Code string } }
	json.NewDecoder(resp.Body).Decode(&answer)
	return resp.StatusCode, answer.Error.Code
}

// TestRequestBodiesPastTheirCapAreRefusedWith413BeforeTheyAreRead sends
// each kind of body the gateway takes past its cap, declared and chunked:
// each must be answered 413 too_large. A checkout declaring 256 MiB was read
// and parsed whole before its token was looked at.
func TestRequestBodiesPastTheirCapAreRefusedWith413BeforeTheyAreRead(t *testing.T) {
	sys := startSystem(t)
	saleID := sys.createSale(t, map[string]any{"sku": "E-1", "name": "Edge", "stock": 5, "outflow_per_second": stalled})
	checkoutPath := "/v1/sales/" + saleID + "/checkout"

	t.Run("a checkout declaring 256 MiB is answered before a byte of it is sent", func(t *testing.T) {
		conn, err := net.Dial("tcp", strings.TrimPrefix(sys.URL, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n",
			checkoutPath, 256<<20)
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("no answer to a body declared past the cap: %v", err)
		}
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(body), `"too_large"`) || !resp.Close {
			t.Errorf("got %d %s (closing: %v); want 413 too_large and the connection closed", resp.StatusCode, body, resp.Close)
		}
	})

	token := `{"token":"` + strings.Repeat("a", 20<<10) + `"}` // 20 KiB: past the shopper cap of 16
	for _, tc := range []struct {
		name, method, path, bearer string
		body                       io.Reader
	}{
		{"a chunked checkout of 20 KiB", http.MethodPost, checkoutPath, "", hideLength{strings.NewReader(token)}},
		{"a checkout of 20 KiB", http.MethodPost, checkoutPath, "", strings.NewReader(token)},
		{"a session request of 17 KiB", http.MethodPost, "/v1/sessions", "", strings.NewReader(strings.Repeat(" ", 17<<10))},
		{"an admin request of 65 KiB", http.MethodPost, "/v1/admin/sales", sys.AdminToken,
			strings.NewReader(`{"sku":"E-2",` + strings.Repeat(" ", 65<<10) + `}`)},
		{"a chunked admin request of 65 KiB", http.MethodPost, "/v1/admin/sales", sys.AdminToken,
			hideLength{strings.NewReader(`{"sku":"E-2",` + strings.Repeat(" ", 65<<10) + `}`)}},
		{"a chunked payment webhook of 257 KiB", http.MethodPost, "/v1/payments/webhook", "",
			hideLength{strings.NewReader(`{"reservation_id":"r_1",` + strings.Repeat(" ", 257<<10) + `}`)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if status, code := send(t, sys, tc.method, tc.path, tc.bearer, tc.body); status != http.StatusRequestEntityTooLarge || code != "too_large" {
				t.Errorf("got %d %s; want 413 too_large", status, code)
			}
		})
	}

	t.Run("an admin request under its cap of 64 KiB is served", func(t *testing.T) {
		plan := `{"sku":"E-3","name":"Padded","stock":1,"outflow_per_second":1` + strings.Repeat(" ", 20<<10) + `}`
		if status, code := send(t, sys, http.MethodPost, "/v1/admin/sales", sys.AdminToken, strings.NewReader(plan)); status != http.StatusCreated {
			t.Errorf("a 20 KiB sale plan got %d %s; want 201", status, code)
		}
	})
}

// TestMetricsAndProfilesAreServedOnTheOpsPortAlone reads the metrics and a
// heap profile: on the public port they are gone (they were served there to
// anyone, outside the rate limits), on the ops port they answer.
func TestMetricsAndProfilesAreServedOnTheOpsPortAlone(t *testing.T) {
	sys := startSystem(t)
	get := func(url, bearer string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	for _, path := range []string{"/metrics", "/v1/admin/debug/pprof/heap", "/debug/pprof/heap"} {
		if status, _ := get(sys.URL+path, sys.AdminToken); status != http.StatusNotFound {
			t.Errorf("GET %s on the public port: %d; want 404", path, status)
		}
	}
	if status, body := get(sys.OpsURLs[0]+"/metrics", ""); status != http.StatusOK || !strings.Contains(body, "foyer_shopper_connections") {
		t.Errorf("GET /metrics on the ops port: %d; want 200 with foyer_shopper_connections", status)
	}
	for _, path := range []string{"/debug/pprof/", "/debug/pprof/heap?gc=1", "/debug/pprof/goroutine"} {
		if status, _ := get(sys.OpsURLs[0]+path, ""); status != http.StatusOK {
			t.Errorf("GET %s on the ops port: %d; want 200", path, status)
		}
	}
	if host, _, _ := net.SplitHostPort(strings.TrimPrefix(sys.OpsURLs[0], "http://")); host != "127.0.0.1" {
		t.Errorf("the ops port listens on %s; the tests ask for loopback", host)
	}
}

// TestTheLiveFeedTakesItsTokenAsASubprotocolAndNeverFromTheURL opens the
// dashboard's live feed three ways: with the token in the query (where
// proxies log it; it was how the dashboard sent it) it is closed 4001 even
// though the token is right; with none, 4001; with the token as the
// subprotocol bearer.<base64url>, it is pushed stats, and the subprotocol
// the server picks does not echo the token.
func TestTheLiveFeedTakesItsTokenAsASubprotocolAndNeverFromTheURL(t *testing.T) {
	sys := startSystem(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	base := "ws" + strings.TrimPrefix(sys.URL, "http") + "/v1/admin/live"
	dial := func(url string, protocols ...string) *websocket.Conn {
		t.Helper()
		ws, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: protocols})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ws.CloseNow() })
		return ws
	}
	if code := closeCode(ctx, dial(base+"?token="+url.QueryEscape(sys.AdminToken), server.AdminSubprotocol)); code != 4001 {
		t.Errorf("the right token in the URL: close %d; want 4001", code)
	}
	if code := closeCode(ctx, dial(base, server.AdminSubprotocol)); code != 4001 {
		t.Errorf("no token: close %d; want 4001", code)
	}
	ws := dial(base, server.AdminSubprotocol, server.AdminTokenProtocol(sys.AdminToken))
	if got := ws.Subprotocol(); got != server.AdminSubprotocol {
		t.Errorf("the server picked the subprotocol %q; want %s", got, server.AdminSubprotocol)
	}
	_, data, err := ws.Read(ctx)
	if err != nil || !strings.Contains(string(data), `"type":"stats"`) {
		t.Fatalf("the token as a subprotocol: %s, %v; want a stats push", data, err)
	}
}

// TestEveryAnswerCarriesTheSecurityHeaders reads a page, the dashboard, an
// asset, an API answer, an error and a miss: every one says nosniff and
// no-referrer, and the pages carry a Content-Security-Policy that allows
// nothing inline and nothing from elsewhere; the dashboard's forbids
// framing.
func TestEveryAnswerCarriesTheSecurityHeaders(t *testing.T) {
	sys := startSystem(t)
	head := func(path string) http.Header {
		t.Helper()
		resp, err := http.Get(sys.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.Header
	}
	for _, path := range []string{"/", "/admin.html", "/healthz", "/v1/sales/no-such-sale", "/nowhere", "/.well-known/jwks.json"} {
		h := head(path)
		if got := h.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("%s: X-Content-Type-Options %q; want nosniff", path, got)
		}
		if got := h.Get("Referrer-Policy"); got != "no-referrer" {
			t.Errorf("%s: Referrer-Policy %q; want no-referrer", path, got)
		}
	}
	for path, framing := range map[string]bool{"/": false, "/index.html": false, "/admin.html": true} {
		csp := head(path).Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'self'", "script-src 'self'", "style-src 'self'", "object-src 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: Content-Security-Policy %q lacks %s", path, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") || strings.Contains(csp, "*") {
			t.Errorf("%s: Content-Security-Policy %q lets in more than Foyer's own files", path, csp)
		}
		if got := strings.Contains(csp, "frame-ancestors 'none'"); got != framing {
			t.Errorf("%s: frame-ancestors 'none' is %v in %q; want %v", path, got, csp, framing)
		}
	}
}
