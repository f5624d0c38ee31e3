package app_test

import (
	"bytes"
	"context"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/foyerhq/foyer/waitingroom"
)

// jsClientDir is the JavaScript client, @foyer/client.
const jsClientDir = "../../clients/js"

var buildJSClientOnce sync.Once

// buildJSClient installs the client's pinned dev tools when they are missing
// and builds dist/, which the Node tests import: the same steps as `make js`,
// so the test also runs alone with go test.
func buildJSClient(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatalf("node is needed for the JavaScript client's tests (scripts/provision.sh installs it): %v", err)
	}
	var failed string
	buildJSClientOnce.Do(func() {
		// Built already (make test's `make js` step builds it first): left as
		// it is, for internal/app's tests run as several processes at once,
		// and a build empties dist/ before it fills it again.
		if jsClientBuilt() {
			return
		}
		steps := [][]string{{"npm", "run", "--silent", "build"}}
		if _, err := os.Stat(filepath.Join(jsClientDir, "node_modules")); err != nil {
			steps = append([][]string{{"npm", "ci", "--no-audit", "--no-fund"}}, steps...)
		}
		for _, step := range steps {
			cmd := exec.Command(step[0], step[1:]...)
			cmd.Dir = jsClientDir
			if out, err := cmd.CombinedOutput(); err != nil {
				failed = strings.Join(step, " ") + ": " + err.Error() + "\n" + string(out)
				return
			}
		}
	})
	if failed != "" {
		t.Fatal(failed)
	}
}

// jsClientBuilt says whether dist/ holds both builds, newer than every file
// they are built from.
func jsClientBuilt() bool {
	var built time.Time
	for _, out := range []string{"dist/esm/index.js", "dist/cjs/index.js", "dist/cjs/package.json"} {
		fi, err := os.Stat(filepath.Join(jsClientDir, out))
		if err != nil {
			return false
		}
		if built.IsZero() || fi.ModTime().Before(built) {
			built = fi.ModTime()
		}
	}
	newer := false
	for _, in := range []string{"src", "package.json", "tsconfig.json", "scripts"} {
		filepath.WalkDir(filepath.Join(jsClientDir, in), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil
			}
			if fi, err := d.Info(); err == nil && fi.ModTime().After(built) {
				newer = true
			}
			return nil
		})
	}
	return !newer
}

// runNodeTests runs `node --test` on files of clients/js with env added.
func runNodeTests(t *testing.T, ctx context.Context, env []string, files ...string) {
	t.Helper()
	buildJSClient(t)
	cmd := exec.CommandContext(ctx, "node", append([]string{"--test", "--test-reporter=tap"}, files...)...)
	cmd.Dir = jsClientDir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	t.Log(string(out))
	if err != nil {
		t.Fatalf("node --test %s: %v", strings.Join(files, " "), err)
	}
}

// The library walks a whole sale against a real Foyer, over a WebSocket and
// over the HTTP fallback: prequeue, the draw, admission, checkout with an
// Idempotency-Key (retried), and the paid order.
func TestJSClientWalksASaleFromPrequeueToOrder(t *testing.T) {
	buildJSClient(t)
	sys := startSystem(t)
	var sales []string
	for range 2 {
		// The start is far enough for Node to start and its shoppers to be
		// in the prequeue however slow the host (4 s was not, and the sale
		// was open when they came), and near enough for the walk's check
		// that the countdown runs under a minute; it is moved to a second
		// away once both are in.
		sales = append(sales, sys.createSale(t, map[string]any{
			"sku": "JS-1", "name": "JS client", "price_cents": 1000, "stock": 5,
			"starts_at": startsIn(50 * time.Second), "prequeue_seconds": 3600,
			"outflow_per_second": 50, "reservation_ttl_seconds": 60,
		}))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	moved := make(chan struct{})
	defer func() { cancel(); <-moved }() // it reports to t: done before the test
	go func() {
		defer close(moved)
		for _, id := range sales {
			pre := waitingroom.Keys(id).Pre
			for n, _ := sys.Redis.ZCard(ctx, pre).Result(); n < 1 && ctx.Err() == nil; n, _ = sys.Redis.ZCard(ctx, pre).Result() {
				time.Sleep(10 * time.Millisecond) // polling a condition; the deadline is ctx's
			}
		}
		for _, id := range sales { // not sys.send: it may not fail the test from here
			req, _ := http.NewRequestWithContext(ctx, http.MethodPatch, sys.URL+"/v1/admin/sales/"+id,
				bytes.NewReader(mustJSON(map[string]any{"starts_at": startsIn(time.Second)})))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+sys.AdminToken)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				if ctx.Err() == nil {
					t.Errorf("moving the start of sale %s: %v", id, err)
				}
				continue
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("moving the start of sale %s: %d", id, resp.StatusCode)
			}
		}
	}()
	runNodeTests(t, ctx, []string{"FOYER_URL=" + sys.URL, "FOYER_SALE_IDS=" + strings.Join(sales, ",")},
		"test/integration/sale.test.mjs")
	for _, id := range sales {
		if n := sys.countOrders(t, id); n != 1 {
			t.Errorf("sale %s has %d orders, want the walk's 1", id, n)
		}
	}
}
