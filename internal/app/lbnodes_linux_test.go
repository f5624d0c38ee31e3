package app_test

import (
	"bufio"
	"context"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/foyerhq/foyer/internal/localservers"
)

// deployNginxConfig is the nginx.conf a deployment runs; the tests render it
// for their gateways (localservers.RenderNginxConfig).
const deployNginxConfig = "../../deploy/nginx/foyer.conf"

// startNginx starts nginx on loopback in front of the gateways at urls,
// configured as deploy/nginx/foyer.conf says; it stops when the test ends.
func startNginx(t *testing.T, urls ...string) *localservers.Nginx {
	t.Helper()
	var upstreams []string
	for _, u := range urls {
		parsed, err := url.Parse(u)
		if err != nil {
			t.Fatal(err)
		}
		upstreams = append(upstreams, parsed.Host)
	}
	n, err := localservers.StartNginx(t.Context(), localservers.NginxOptions{
		Dir: t.TempDir(), Config: deployNginxConfig, Upstreams: upstreams, Log: newTestWriter(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := n.Stop(); err != nil {
			t.Error(err)
		}
	})
	return n
}

// processGateway is `foyer serve`, the binary users run, as a process of its
// own: a test can kill it as a crash would (SIGKILL), which it cannot do to
// a gateway in its own process.
type processGateway struct {
	URL, OpsURL string
	cmd         *exec.Cmd
	done        chan struct{} // closed once the process has exited
}

// startGatewayProcess builds foyer and starts `foyer serve` on the system's
// Redis and Postgres with the tests' settings and the given ones. It is
// killed when the test ends, or with the test's process.
func (s *system) startGatewayProcess(t *testing.T, nodeID string, settings map[string]string) *processGateway {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "foyer")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/foyerhq/foyer/cmd/foyer").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	port, opsPort := freeLoopbackPort(t), freeLoopbackPort(t)
	environ := map[string]string{
		"FOYER_HTTP_ADDR":    "127.0.0.1:" + strconv.Itoa(port),
		"FOYER_METRICS_ADDR": "127.0.0.1:" + strconv.Itoa(opsPort),
		"FOYER_NODE_ID":      nodeID,
		"FOYER_REDIS_URL":    s.cfg.RedisURL, "FOYER_DATABASE_URL": s.cfg.DatabaseURL,
		"FOYER_ADMIN_TOKEN": s.AdminToken, "FOYER_SIGNING_KEYS": s.Seed,
		"FOYER_PAYMENT_WEBHOOK_SECRET": testWebhookSecret, "FOYER_ALLOW_VOLATILE_REDIS": "true",
		"FOYER_ADMISSION_TICK": "20ms", "FOYER_LOG_LEVEL": "warn",
		"FOYER_LIMIT_IP_REQUESTS": "0", "FOYER_LIMIT_IP_SESSIONS": "0", "FOYER_LIMIT_IP_CONNECTS": "0",
		"FOYER_LIMIT_IP_JOINS": "0", "FOYER_MAX_CONNS_PER_IP": "0", "FOYER_MAX_JOINS_PER_SECOND": "0",
		"FOYER_SIGNAL_SESSIONS_PER_IP": "0",
	}
	maps.Copy(environ, settings)
	cmd := exec.Command(bin, "serve")
	for _, kv := range os.Environ() {
		// The gateway sets its own GODEBUG (small stacks) and runs itself again.
		if !strings.HasPrefix(kv, "GODEBUG=") && !strings.HasPrefix(kv, "FOYER_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	for k, v := range environ {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	w := newTestWriter(t)
	cmd.Stdout, cmd.Stderr = w, w
	// Should the test's process die, the gateway dies with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	g := &processGateway{URL: fmt.Sprintf("http://127.0.0.1:%d", port), OpsURL: fmt.Sprintf("http://127.0.0.1:%d", opsPort),
		cmd: cmd, done: make(chan struct{})}
	go func() { cmd.Wait(); close(g.done) }() //nolint:errcheck // a killed gateway exits with an error by design
	t.Cleanup(g.Kill)
	if err := g.awaitReady(t.Context()); err != nil {
		t.Fatal(err)
	}
	return g
}

// awaitReady waits until the gateway answers /readyz with 200.
func (g *processGateway) awaitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for delay := time.Millisecond; ; delay = min(2*delay, 100*time.Millisecond) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, g.URL+"/readyz", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-g.done:
			return fmt.Errorf("foyer serve exited before it was ready: %v", g.cmd.ProcessState)
		case <-ctx.Done():
			return fmt.Errorf("foyer serve at %s not ready: %w", g.URL, ctx.Err())
		case <-time.After(delay):
		}
	}
}

// Kill kills the gateway with SIGKILL, as a crash would, and waits for it.
func (g *processGateway) Kill() {
	g.cmd.Process.Kill() //nolint:errcheck // it may be gone already
	<-g.done
}

// freeLoopbackPort is a loopback port nobody listens on right now.
func freeLoopbackPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// shopperConnections reads how many shopper WebSockets a gateway holds, from
// its metrics.
func shopperConnections(t *testing.T, opsURL string) int {
	t.Helper()
	resp, err := http.Get(opsURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	lines := bufio.NewScanner(resp.Body)
	for lines.Scan() {
		if v, ok := strings.CutPrefix(lines.Text(), "foyer_shopper_connections "); ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				t.Fatalf("foyer_shopper_connections %q: %v", v, err)
			}
			return n
		}
	}
	t.Fatalf("%s/metrics has no foyer_shopper_connections", opsURL)
	return 0
}
