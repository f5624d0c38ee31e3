package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/redis/go-redis/v9"

	"github.com/foyerhq/foyer/internal/app"
	"github.com/foyerhq/foyer/internal/keyring"
	"github.com/foyerhq/foyer/internal/localservers"
	"github.com/foyerhq/foyer/internal/testenv"
)

func TestMain(m *testing.M) {
	if url := os.Getenv(holdEnv); url != "" {
		// Started by a memory benchmark as its client process.
		os.Exit(holdConnections(url))
	}
	if os.Getenv(loadgenPlayerEnv) != "" {
		// Started by a load generator test as one of its player processes.
		os.Exit(runLoadgenPlayer())
	}
	testenv.Main(m, stopChromium)
}

// system is a whole Foyer started for one test: real Redis and Postgres, a
// gateway and a worker, built by the same code as `foyer serve` and `foyer worker`.
type system struct {
	URL        string   // the first node
	URLs       []string // every node
	OpsURLs    []string // every node's ops port (metrics and profiles), in the order of URLs
	WorkerOps  string   // the worker's ops port
	cfg        app.Config
	log        *slog.Logger
	AdminToken string
	Seed       string // the signing key
	Redis      redis.UniversalClient
	DB         *sqlx.DB
}

func startSystem(t testing.TB) *system { return startNodes(t, 1, nil) }

// startNodes starts a system with n gateway nodes sharing Redis and Postgres;
// settings override the test defaults.
func startNodes(t testing.TB, n int, settings map[string]string) *system {
	t.Helper()
	return startNodesOn(t, testenv.NewRedis(t), n, settings)
}

// The tests' secrets: long enough for the gateway's checks (config.go),
// plain enough to read in a failing test's log.
const (
	testAdminToken    = "test-admin-token-of-32-characters"
	testWebhookSecret = "test-webhook-secret-of-at-least-32-bytes"
)

// startNodesOn is startNodes on a Redis server the test controls.
func startNodesOn(t testing.TB, rs *localservers.Redis, n int, settings map[string]string) *system {
	t.Helper()
	return startNodesAt(t, rs.URL(), testenv.RedisClient(t, rs), n, settings)
}

// startNodesAt is startNodes on the Redis (or Redis Cluster) at redisURL,
// which rdb, the test's own client, reaches too.
func startNodesAt(t testing.TB, redisURL string, rdb redis.UniversalClient, n int, settings map[string]string) *system {
	t.Helper()
	dbURL := testenv.NewDatabase(t)
	sys := &system{AdminToken: testAdminToken, Seed: keyring.NewSeed(), Redis: rdb}
	environ := map[string]string{
		"FOYER_HTTP_ADDR":              "127.0.0.1:0",
		"FOYER_METRICS_ADDR":           "127.0.0.1:0",
		"FOYER_WORKER_METRICS_ADDR":    "127.0.0.1:0",
		"FOYER_REDIS_URL":              redisURL,
		"FOYER_DATABASE_URL":           dbURL,
		"FOYER_ADMIN_TOKEN":            sys.AdminToken,
		"FOYER_SIGNING_KEYS":           sys.Seed,
		"FOYER_ADMISSION_TICK":         "20ms",
		"FOYER_LOG_LEVEL":              "warn",
		"FOYER_PAYMENT_WEBHOOK_SECRET": testWebhookSecret,
		// The test Redis runs without an AOF, for speed; a gateway on it
		// takes checkouts only when told to (durability_test.go tests that
		// it refuses them otherwise).
		"FOYER_ALLOW_VOLATILE_REDIS": "true",
		// Tests play many shoppers from one address: the per-IP defences
		// are off unless a test of them turns them on (defence_test.go).
		"FOYER_LIMIT_IP_REQUESTS": "0", "FOYER_LIMIT_IP_SESSIONS": "0", "FOYER_LIMIT_IP_CONNECTS": "0",
		"FOYER_LIMIT_IP_JOINS": "0", "FOYER_MAX_CONNS_PER_IP": "0", "FOYER_MAX_JOINS_PER_SECOND": "0",
		// Nor are they flagged as many identities of one address, unless a
		// test of the signals turns it on (signals_test.go).
		"FOYER_SIGNAL_SESSIONS_PER_IP": "0",
		// The shop's webhook endpoints are the tests' own servers, on
		// loopback, and their retries come in milliseconds, not seconds.
		"FOYER_WEBHOOK_ALLOW_PRIVATE": "true", "FOYER_WEBHOOK_RETRY_BASE": "20ms",
		"FOYER_WEBHOOK_RETRY_MAX_DELAY": "200ms", "FOYER_WEBHOOK_POLL": "50ms",
	}
	maps.Copy(environ, settings)
	cfg, err := app.LoadConfig(environ)
	if err != nil {
		t.Fatal(err)
	}
	sys.cfg = cfg
	sys.log = slog.New(slog.NewTextHandler(newTestWriter(t), &slog.HandlerOptions{Level: slog.LevelWarn}))
	for i := range n {
		node := sys.startGateway(t, fmt.Sprintf("node-%d", i+1))
		sys.URLs = append(sys.URLs, node.URL)
		sys.OpsURLs = append(sys.OpsURLs, node.OpsURL)
	}
	sys.URL = sys.URLs[0]
	// The worker's payment provider answers through the first node's webhook,
	// unless the test put something in between (FOYER_PAYMENT_WEBHOOK_URL).
	wcfg := cfg
	if wcfg.WebhookURL == "" {
		wcfg.WebhookURL = sys.URL + "/v1/payments/webhook"
	}
	wk, err := app.NewWorker(context.Background(), wcfg, sys.log)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = wk.Run(ctx); close(done) }()
	t.Cleanup(func() {
		cancel()
		<-done
		wk.Close()
	})
	<-wk.Running()
	sys.WorkerOps = "http://" + wk.OpsAddr()
	sys.DB, err = sqlx.Open("postgres", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sys.DB.Close() })
	return sys
}

// gatewayNode is one running gateway of a system.
type gatewayNode struct {
	URL    string
	OpsURL string // its metrics and profiles (FOYER_METRICS_ADDR)
	Stop   func() // stops the node as SIGTERM would
}

// startGateway starts one more gateway node; it stops when the test ends.
func (s *system) startGateway(t testing.TB, nodeID string) gatewayNode {
	t.Helper()
	cfg := s.cfg
	cfg.NodeID = nodeID
	ctx, cancel := context.WithCancel(context.Background())
	gw, err := app.NewGateway(ctx, cfg, s.log)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = gw.Run(ctx); close(done) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			<-done
			gw.Close()
		})
	}
	t.Cleanup(stop)
	return gatewayNode{URL: gw.URL(), OpsURL: "http://" + gw.OpsAddr(), Stop: stop}
}

// testWriter sends log lines to the test's log, so they show only on
// failure. Lines written after the test ended (a library's goroutine winding
// down) are dropped: the testing package panics on them.
type testWriter struct {
	t    testing.TB
	mu   *sync.Mutex
	done *bool
}

func newTestWriter(t testing.TB) testWriter {
	w := testWriter{t: t, mu: &sync.Mutex{}, done: new(bool)}
	t.Cleanup(func() { w.mu.Lock(); *w.done = true; w.mu.Unlock() })
	return w
}

func (w testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !*w.done {
		w.t.Log(string(bytes.TrimRight(p, "\n")))
	}
	return len(p), nil
}

// createSale creates a sale through the admin API and returns its id.
func (s *system) createSale(t testing.TB, body map[string]any) string {
	t.Helper()
	var sale struct {
		ID string `json:"id"`
	}
	status := s.call(t, http.MethodPost, "/v1/admin/sales", s.AdminToken, body, &sale)
	if status != http.StatusCreated {
		t.Fatalf("create sale: status %d", status)
	}
	return sale.ID
}

// call sends a JSON request and decodes the answer into out; it returns the status.
func (s *system) call(t testing.TB, method, path, bearer string, body, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, s.URL+path, rd)
	req.Header.Set("Content-Type", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: decode %q: %v", method, path, raw, err)
		}
	}
	return resp.StatusCode
}

// countOrders counts the order rows of a sale.
func (s *system) countOrders(t *testing.T, saleID string) int {
	t.Helper()
	var n int
	if err := s.DB.Get(&n, `SELECT count(*) FROM orders WHERE sale_id = $1`, saleID); err != nil {
		t.Fatal(err)
	}
	return n
}

func startsIn(d time.Duration) string { return time.Now().Add(d).UTC().Format(time.RFC3339Nano) }
