package localservers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/foyerhq/foyer/internal/localservers"
)

// deployNginxConfig is the deployment's nginx.conf, which the tests render.
const deployNginxConfig = "../../deploy/nginx/foyer.conf"

// seen is what a backend behind nginx tells of the request it got.
type seen struct {
	Backend, Host, ForwardedFor, RealIP, Connection string
}

// startBackend is a gateway stand-in on loopback: it echoes WebSocket
// messages, and answers any other request with what it saw.
func startBackend(t *testing.T, name string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) //nolint:errcheck // a body is read only to be counted by nginx
		if r.Header.Get("Upgrade") == "websocket" {
			ws, err := websocket.Accept(w, r, nil)
			if err != nil {
				return
			}
			defer ws.CloseNow()
			for {
				typ, msg, err := ws.Read(r.Context())
				if err != nil {
					return
				}
				if err := ws.Write(r.Context(), typ, append([]byte(name+":"), msg...)); err != nil {
					return
				}
			}
		}
		json.NewEncoder(w).Encode(seen{Backend: name, Host: r.Host, ForwardedFor: r.Header.Get("X-Forwarded-For"), //nolint:errcheck // the client reads what came
			RealIP: r.Header.Get("X-Real-IP"), Connection: r.Header.Get("Connection")})
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

func startNginx(t *testing.T, upstreams ...string) *localservers.Nginx {
	t.Helper()
	n, _ := startNginxIn(t, t.TempDir(), upstreams...)
	return n
}

func startNginxIn(t *testing.T, dir string, upstreams ...string) (*localservers.Nginx, string) {
	t.Helper()
	n, err := localservers.StartNginx(t.Context(), localservers.NginxOptions{
		Dir: dir, Config: deployNginxConfig, Upstreams: upstreams})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := n.Stop(); err != nil {
			t.Error(err)
		}
	})
	return n, dir
}

// clientFrom is an HTTP client whose connections leave from the source IP.
func clientFrom(source string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(source)}}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext}, Timeout: 10 * time.Second}
}

func getSeen(t *testing.T, client *http.Client, url string, header http.Header) seen {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var s seen
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		t.Fatalf("GET %s: %s: %v", url, resp.Status, err)
	}
	return s
}

func echo(t *testing.T, ctx context.Context, url string) string {
	t.Helper()
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(url, "http")+"/ws", nil)
	if err != nil {
		t.Fatalf("WebSocket through nginx: %v", err)
	}
	defer ws.CloseNow()
	if err := ws.Write(ctx, websocket.MessageText, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	_, msg, err := ws.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ws.Close(websocket.StatusNormalClosure, "")
	return string(msg)
}

func TestNginxCarriesWebSocketsAndNamesTheClientThenReloadsItsUpstreams(t *testing.T) {
	a, b := startBackend(t, "a"), startBackend(t, "b")
	n, dir := startNginxIn(t, t.TempDir(), a)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()

	if got := echo(t, ctx, n.URL()); got != "a:hello" {
		t.Errorf("the WebSocket through nginx echoed %q, want a:hello", got)
	}
	// A client from 127.0.0.2 forging an X-Forwarded-For: nginx keeps the
	// forged entry and appends the address it saw, last, where the gateway
	// reads it; X-Real-IP is that address alone.
	s := getSeen(t, clientFrom("127.0.0.2"), n.URL()+"/v1/sales/x", http.Header{"X-Forwarded-For": {"203.0.113.9"}})
	if s.ForwardedFor != "203.0.113.9, 127.0.0.2" || s.RealIP != "127.0.0.2" {
		t.Errorf("the backend saw X-Forwarded-For %q and X-Real-IP %q, want \"203.0.113.9, 127.0.0.2\" and 127.0.0.2",
			s.ForwardedFor, s.RealIP)
	}
	if s.Host != n.Addr {
		t.Errorf("the backend saw Host %q, want the client's %q (the WebSocket's Origin check compares them)", s.Host, n.Addr)
	}
	if s.Connection != "" {
		t.Errorf("a plain request reached the backend with Connection %q, want none (kept alive)", s.Connection)
	}
	// A shopper's session token rides in the WebSocket's query: the access
	// log keeps the path alone.
	getSeen(t, http.DefaultClient, n.URL()+"/v1/sales/x/ws?session=s3cret-token", nil)
	// nginx writes a request's line once it has answered it: the client
	// may read the log before it is there.
	log := waitForLine(t, ctx, filepath.Join(dir, "access.log"), "/v1/sales/x/ws")
	if strings.Contains(log, "s3cret-token") {
		t.Errorf("the access log should name the path and not the session token:\n%s", log)
	}

	if err := n.Reload(ctx, []string{b}); err != nil {
		t.Fatal(err)
	}
	if got := echo(t, ctx, n.URL()); got != "b:hello" {
		t.Errorf("after the reload the WebSocket echoed %q, want b:hello", got)
	}
}

func TestNginxSkipsAnUpstreamThatRefusesConnections(t *testing.T) {
	gone := startBackend(t, "gone")
	alive := startBackend(t, "alive")
	n := startNginx(t, gone, alive)
	// A gateway that died: its port refuses every connection.
	stopped := httptest.NewServer(nil)
	stopped.Close()
	if err := n.Reload(t.Context(), []string{strings.TrimPrefix(stopped.URL, "http://"), alive}); err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		if s := getSeen(t, http.DefaultClient, n.URL()+"/v1/sales/x", nil); s.Backend != "alive" {
			t.Fatalf("request %d answered by %q, want the live backend", i, s.Backend)
		}
	}
}

// TestNginxRefusesBodiesPastFoyersCaps posts, to each route of a different
// cap, a body at the cap (passed on) and one byte more (refused with
// Foyer's own error body). internal/app's load balancer test checks the
// same caps against a gateway.
func TestNginxRefusesBodiesPastFoyersCaps(t *testing.T) {
	n := startNginx(t, startBackend(t, "a"))
	for _, tc := range []struct {
		path string
		cap  int
	}{
		{"/v1/sessions", 16 << 10},
		{"/v1/admin/sales", 64 << 10},
		{"/v1/payments/stripe/webhook", 64 << 10},
		{"/v1/payments/webhook", 256 << 10},
		{"/v1/admin/sales/s_1/invitees", 4 << 20},
	} {
		for _, size := range []int{tc.cap, tc.cap + 1} {
			resp, err := http.Post(n.URL()+tc.path, "application/octet-stream", strings.NewReader(strings.Repeat("x", size)))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			refused := resp.StatusCode == http.StatusRequestEntityTooLarge
			if refused != (size > tc.cap) {
				t.Errorf("POST %s with %d bytes (cap %d): %s", tc.path, size, tc.cap, resp.Status)
			}
			if refused && !strings.Contains(string(body), `"code":"too_large"`) {
				t.Errorf("POST %s refused with %q, want Foyer's error body with code too_large", tc.path, body)
			}
		}
	}
}

func TestRenderNginxConfigRefusesWhatItCannotRender(t *testing.T) {
	const upstream = "upstream u {\n server a:1;\n}\n"
	r := localservers.NginxRender{Dir: "/d", Port: 8, Upstreams: []string{"127.0.0.1:9"}}
	for name, conf := range map[string]string{
		"no http block":            "events {}\n",
		"no upstream":              "http {\n server {\n listen 80;\n }\n}\n",
		"an empty upstream":        "http {\n upstream u {\n}\n server {\n listen 80;\n }\n}\n",
		"an empty second upstream": "http {\n" + upstream + " upstream v {\n}\n server {\n listen 80;\n }\n}\n",
		"two listens":              "http {\n" + upstream + " server {\n listen 80;\n listen 81;\n }\n}\n",
		"no listen":                "http {\n" + upstream + " server {\n }\n}\n",
		"an unclosed block":        "http {\n" + upstream + " server {\n listen 80;\n }\n",
		"a stray close":            "http {\n" + upstream + " server {\n listen 80;\n }\n}\n}\n",
		"two listens on one":       "http {\n" + upstream + " server {\n listen 80; listen 81;\n }\n}\n",
	} {
		if _, err := localservers.RenderNginxConfig(conf, r); err == nil {
			t.Errorf("%s: rendered, want an error", name)
		}
	}
	if _, err := localservers.RenderNginxConfig("http {\n"+upstream+" server {\n listen 80;\n }\n}\n", r); err != nil {
		t.Errorf("a minimal config: %v", err)
	}
	if _, err := localservers.RenderNginxConfig("", localservers.NginxRender{}); err == nil {
		t.Error("rendered without a folder, port or upstream")
	}
}

func TestRenderNginxConfigKeepsTheUpstreamParametersForEveryGateway(t *testing.T) {
	conf := "http {\n  upstream u {\n    least_conn;\n    server a:1 max_fails=1 fail_timeout=5s;\n    server b:1 max_fails=1 fail_timeout=5s;\n  }\n" +
		"  server {\n    listen 80;\n    location / { return 200 '{}'; } # a brace in a string, one in a comment {\n  }\n}\n"
	got, err := localservers.RenderNginxConfig(conf, localservers.NginxRender{Dir: "/d", Port: 8, Generation: 3,
		Upstreams: []string{"127.0.0.1:9", "127.0.0.1:10", "127.0.0.1:11"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"server 127.0.0.1:9 max_fails=1 fail_timeout=5s;", "server 127.0.0.1:11 max_fails=1 fail_timeout=5s;",
		"least_conn;", "listen 127.0.0.1:8;", "daemon off;", "pid /d/nginx.pid;", "proxy_temp_path /d/proxy;",
		fmt.Sprintf("location = %s { return 200 \"3\"; }", localservers.GenerationPath),
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the rendering lacks %q:\n%s", want, got)
		}
	}
	for _, gone := range []string{"server a:1", "server b:1", "listen 80"} {
		if strings.Contains(got, gone) {
			t.Errorf("the rendering keeps %q:\n%s", gone, got)
		}
	}
}

func TestNginxReloadWithABadUpstreamChangesNothing(t *testing.T) {
	n := startNginx(t, startBackend(t, "a"))
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	for _, upstreams := range [][]string{nil, {"127.0.0.1:notaport"}} {
		if err := n.Reload(ctx, upstreams); err == nil {
			t.Errorf("reload onto %q succeeded", upstreams)
		}
	}
	if got := echo(t, ctx, n.URL()); got != "a:hello" {
		t.Errorf("after the refused reloads the WebSocket echoed %q, want a:hello from the first backend", got)
	}
}

// waitForLine reads the file at path until it holds want, and returns it;
// it fails the test when ctx ends first.
func waitForLine(t *testing.T, ctx context.Context, path, want string) string {
	t.Helper()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(raw), want) {
			return string(raw)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s never held %q:\n%s", path, want, raw)
		case <-tick.C:
		}
	}
}
