package app_test

import (
	"bufio"
	"context"
	"encoding/json"
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
// print the shopper URL of a demo sale that serves, set up the shop demo
// (checkDevShopDemo), and on cancel stop everything it started.
func TestDevStartsEverythingPrintsTheURLsAndStopsCleanly(t *testing.T) {
	dataDir := t.TempDir() + "/data"
	cfg, err := app.LoadConfig(map[string]string{
		"FOYER_HTTP_ADDR": "127.0.0.1:0", "FOYER_METRICS_ADDR": "127.0.0.1:0", "FOYER_WORKER_METRICS_ADDR": "127.0.0.1:0", "FOYER_DATA_DIR": dataDir, "FOYER_LOG_LEVEL": "error",
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
	checkDevShopDemo(t, base, token, dataDir)

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

// checkDevShopDemo checks what `foyer dev` set up for the example shop:
// shop.env in the data folder, readable by its owner only, whose key
// answers the shop API, whose sale is a shop-checkout sale for signed-in
// customers at the shop's checkout, and whose webhook endpoint is the
// shop's.
func checkDevShopDemo(t *testing.T, base, adminToken, dataDir string) {
	t.Helper()
	path := dataDir + "/" + app.ShopEnvFile
	info, err := os.Stat(path)
	if err != nil {
		t.Fatalf("dev wrote no shop environment: %v", err)
	}
	if mode := info.Mode().Perm(); mode != 0o600 {
		t.Errorf("%s has mode %o; it holds secrets: want 600", app.ShopEnvFile, mode)
	}
	env := readShellEnv(t, path)
	for _, name := range []string{"FOYER_URL", "SHOP_KEY", "SHOP_IDENTITY_SECRET", "SHOP_WEBHOOK_SECRET", "ADDR", "SHOP_SALE_IDS"} {
		if env[name] == "" {
			t.Errorf("%s sets no %s", app.ShopEnvFile, name)
		}
	}
	if env["FOYER_URL"] != base || env["ADDR"] != "127.0.0.1:8081" {
		t.Errorf("FOYER_URL=%q ADDR=%q, want %q and the default shop's loopback address", env["FOYER_URL"], env["ADDR"], base)
	}
	if len(env["SHOP_IDENTITY_SECRET"]) < app.MinIdentitySecretLength || !strings.HasPrefix(env["SHOP_WEBHOOK_SECRET"], "whsec_") {
		t.Errorf("the identity secret (%d bytes) or the webhook secret is not one Foyer makes", len(env["SHOP_IDENTITY_SECRET"]))
	}
	saleID := env["SHOP_SALE_IDS"]

	get := func(path, bearer string, into any) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, base+path, nil)
		req.Header.Set("Authorization", "Bearer "+bearer)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if into != nil && resp.StatusCode == http.StatusOK {
			if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
				t.Fatalf("GET %s: %v", path, err)
			}
		}
		return resp.StatusCode
	}
	if code := get("/v1/shop/sales/"+saleID+"/orders", env["SHOP_KEY"], nil); code != http.StatusOK {
		t.Errorf("the shop key does not read the shop sale's orders: %d", code)
	}
	var got struct {
		Plan struct {
			Checkout    string `json:"checkout"`
			CheckoutURL string `json:"checkout_url"`
			Identity    string `json:"identity"`
		} `json:"plan"`
	}
	if code := get("/v1/admin/sales/"+saleID, adminToken, &got); code != http.StatusOK {
		t.Fatalf("GET the shop sale: %d", code)
	}
	if sale := got.Plan; sale.Checkout != "shop" || sale.CheckoutURL != "http://localhost:8081/checkout" || sale.Identity != "required" {
		t.Errorf("the shop sale's plan is %+v; want checkout shop at the shop's /checkout, identity required", sale)
	}
	var list struct {
		Endpoints []struct {
			URL string `json:"url"`
		} `json:"endpoints"`
	}
	if code := get("/v1/admin/webhooks", adminToken, &list); code != http.StatusOK {
		t.Fatalf("GET the webhook endpoints: %d", code)
	}
	if hooks := list.Endpoints; len(hooks) != 1 || hooks[0].URL != "http://localhost:8081/webhooks/foyer" {
		t.Errorf("webhook endpoints %+v; want the shop's /webhooks/foyer alone", hooks)
	}
}

// readShellEnv reads the NAME='value' lines of a file a shell sources.
func readShellEnv(t *testing.T, path string) map[string]string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for _, line := range strings.Split(string(raw), "\n") {
		name, value, ok := strings.Cut(line, "=")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		env[name] = strings.ReplaceAll(strings.Trim(value, "'"), `'\''`, "'")
	}
	return env
}

// TestDevRefusesAShopURLItCannotUseBeforeStartingAnything: a shop demo URL
// without a port (or not http) is named in the error, and nothing starts.
func TestDevRefusesAShopURLItCannotUseBeforeStartingAnything(t *testing.T) {
	for _, shopURL := range []string{"http://localhost", "ftp://localhost:8081", "http://localhost:8081/shop"} {
		dataDir := t.TempDir() + "/data"
		cfg, err := app.LoadConfig(map[string]string{"FOYER_DATA_DIR": dataDir, "FOYER_DEMO_SHOP_URL": shopURL})
		if err != nil {
			t.Fatal(err)
		}
		err = app.Dev(context.Background(), cfg, app.NewLogger(cfg), io.Discard)
		if err == nil || !strings.Contains(err.Error(), "FOYER_DEMO_SHOP_URL") {
			t.Errorf("FOYER_DEMO_SHOP_URL=%s: dev answered %v, want an error naming the variable", shopURL, err)
		}
		if _, err := os.Stat(dataDir); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("FOYER_DEMO_SHOP_URL=%s: dev made its data folder before refusing (%v)", shopURL, err)
		}
	}
}
