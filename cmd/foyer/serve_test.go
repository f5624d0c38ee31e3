package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/foyerhq/foyer/internal/keyring"
	"github.com/foyerhq/foyer/internal/shopperclient"
	"github.com/foyerhq/foyer/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// testWebhookSecret is the payment webhook secret of the processes the tests
// start: as long as `foyer serve` and `foyer worker` require.
const testWebhookSecret = "test-webhook-secret-of-at-least-32-bytes"

// buildFoyer compiles the binary users run.
func buildFoyer(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "foyer")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestServeDrainsShoppersOnSIGTERMAndExitsCleanly starts `foyer serve` as a
// process, connects a shopper, sends SIGTERM, and expects the shopper to be
// told "going away" (reconnect elsewhere) and the process to exit 0.
func TestServeDrainsShoppersOnSIGTERMAndExitsCleanly(t *testing.T) {
	bin := buildFoyer(t)
	rs := testenv.NewRedis(t)
	admin := "sigterm-admin-token-of-32-characters"
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(withoutGODEBUG(os.Environ()),
		"FOYER_HTTP_ADDR=127.0.0.1:0", "FOYER_METRICS_ADDR=127.0.0.1:0", "FOYER_REDIS_URL="+rs.URL(), "FOYER_DATABASE_URL="+testenv.NewDatabase(t),
		"FOYER_ADMIN_TOKEN="+admin, "FOYER_SIGNING_KEYS="+keyring.NewSeed(), "FOYER_NODE_ID=sigterm", "FOYER_PAYMENT_WEBHOOK_SECRET="+testWebhookSecret,
		"FOYER_ALLOW_VOLATILE_REDIS=true", // the test Redis keeps no AOF
	)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	addr := waitForListen(t, stderr)
	base := "http://" + addr
	// The runtime reads GODEBUG only at start: the gateway runs itself again
	// with small stacks, in place, and that is the environment it runs in.
	if runtime.GOOS == "linux" {
		environ, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", cmd.Process.Pid))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(strings.Split(string(environ), "\x00"), "GODEBUG=adaptivestackstart=0") {
			t.Errorf("the gateway runs without GODEBUG=adaptivestackstart=0 in its environment")
		}
	}

	sale := createSale(t, base, admin)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := shopperclient.New(base)
	sess, err := c.NewSession(ctx)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := c.Connect(ctx, sale, sess)
	if err != nil {
		t.Fatal(err)
	}
	if m, err := conn.Next(ctx); err != nil || m.Type != "welcome" {
		t.Fatalf("first message %+v, %v", m, err)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := conn.Next(ctx); err != nil {
			if code := websocket.CloseStatus(err); code != websocket.StatusGoingAway {
				t.Errorf("shopper closed with %v (%d), want 1001 going away\n%s", err, code, logTail.String())
			}
			break
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("foyer serve exited with %v after SIGTERM, want 0; its last words:\n%s", err, logTail.String())
	}
}

// logTail keeps the last lines the server logged, for a failure message.
var logTail lastLines

type lastLines struct {
	mu    sync.Mutex
	lines []string
}

func (l *lastLines) add(line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, line)
	if len(l.lines) > 20 {
		l.lines = l.lines[1:]
	}
}

func (l *lastLines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

var listenLine = regexp.MustCompile(`msg="gateway listening" addr=(\S+)`)

// waitForListen reads the log until the gateway says where it listens.
func waitForListen(t *testing.T, stderr interface{ Read([]byte) (int, error) }) string {
	t.Helper()
	lines := bufio.NewScanner(stderr)
	for lines.Scan() {
		if m := listenLine.FindStringSubmatch(lines.Text()); m != nil {
			go func() {
				for lines.Scan() {
					logTail.add(lines.Text())
				}
			}()
			return m[1]
		}
	}
	t.Fatal("foyer serve exited before listening")
	return ""
}

func createSale(t *testing.T, base, admin string) string {
	t.Helper()
	body := `{"sku":"SIG-1","name":"Signals","stock":10,"price_cents":100}`
	req, _ := http.NewRequest(http.MethodPost, base+"/v1/admin/sales", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+admin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var sale struct{ ID string }
	if err := json.NewDecoder(resp.Body).Decode(&sale); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("create sale: %d %v", resp.StatusCode, err)
	}
	return sale.ID
}

// withoutGODEBUG is env without any GODEBUG setting.
func withoutGODEBUG(env []string) []string {
	return slices.DeleteFunc(slices.Clone(env), func(kv string) bool { return strings.HasPrefix(kv, "GODEBUG=") })
}
