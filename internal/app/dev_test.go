package app_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/foyerhq/foyer/internal/app"
)

// TestDevStartsEverythingPrintsTheURLsAndStopsCleanly runs `foyer dev` as
// `make run` does, in-process: it must start its own Redis and Postgres,
// print the shopper URL of a demo sale that serves, and on cancel stop
// everything it started.
func TestDevStartsEverythingPrintsTheURLsAndStopsCleanly(t *testing.T) {
	dataDir := t.TempDir() + "/data"
	cfg, err := app.LoadConfig(map[string]string{
		"FOYER_HTTP_ADDR": "127.0.0.1:0", "FOYER_METRICS_ADDR": "127.0.0.1:0", "FOYER_DATA_DIR": dataDir, "FOYER_LOG_LEVEL": "error",
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out, w := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- app.Dev(ctx, cfg, app.NewLogger(cfg), w)
		w.Close()
	}()

	var shopperURL, token string
	lines := bufio.NewScanner(out)
	for lines.Scan() && (shopperURL == "" || token == "") {
		line := strings.TrimSpace(lines.Text())
		if rest, ok := strings.CutPrefix(line, "Shopper page: "); ok {
			shopperURL, _, _ = strings.Cut(rest, " ")
		}
		if rest, ok := strings.CutPrefix(line, "Admin token: "); ok {
			token = strings.TrimSpace(rest)
		}
	}
	if shopperURL == "" || token == "" {
		t.Fatalf("dev printed no shopper URL or admin token (exit: %v)", <-done)
	}
	go io.Copy(io.Discard, out) //nolint:errcheck // keep the pipe flowing

	base, saleID, _ := strings.Cut(shopperURL, "/?sale=")
	for _, path := range []string{"/healthz", "/readyz", "/?sale=" + saleID, "/v1/sales/" + saleID} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %d", path, resp.StatusCode)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, base+"/v1/admin/sales/"+saleID, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("the printed admin token does not open the admin API: %d", resp.StatusCode)
	}

	cancel()
	if err := <-done; err != nil {
		t.Errorf("dev stopped with %v", err)
	}
	addr := strings.TrimPrefix(base, "http://localhost")
	if conn, err := net.DialTimeout("tcp", "127.0.0.1"+addr, time.Second); err == nil {
		conn.Close()
		t.Errorf("the gateway still listens after dev stopped")
	}
	if _, err := os.Stat(dataDir + "/postgres/postmaster.pid"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("postgres still runs after dev stopped (postmaster.pid: %v)", err)
	}
}
