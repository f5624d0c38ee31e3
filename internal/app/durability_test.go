package app_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/foyerhq/foyer/internal/localservers"
	"github.com/foyerhq/foyer/internal/testenv"
)

// readiness is a /readyz answer.
type readiness struct {
	Status   string   `json:"status"`
	Failed   []string `json:"failed"`
	Reason   string   `json:"reason"`
	Warnings []string `json:"warnings"`
	Refusing []string `json:"refusing"`
}

// readyz asks a node whether it is ready; it returns the status, the
// decoded answer and the raw body.
func readyz(t *testing.T, url string) (int, readiness, string) {
	t.Helper()
	resp, err := http.Get(url + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var r readiness
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatalf("readyz: decode %q: %v", raw, err)
	}
	return resp.StatusCode, r, string(raw)
}

// volatileRedis is a test Redis run as the README says not to: with its
// AOF fsynced once a second, so a kill loses the last second of writes.
func volatileRedis(t *testing.T) *localservers.Redis {
	t.Helper()
	rs := testenv.NewRedis(t, testenv.WithAppendOnly())
	if err := testenv.RedisClient(t, rs).ConfigSet(t.Context(), "appendfsync", "everysec").Err(); err != nil {
		t.Fatal(err)
	}
	return rs
}

// tryCheckout posts a checkout and returns its status and error code.
func (s *system) tryCheckout(t *testing.T, saleID, token string) (int, string) {
	t.Helper()
	var body struct{ Error struct{ Code string } }
	status := s.call(t, http.MethodPost, "/v1/sales/"+saleID+"/checkout", "", map[string]string{"token": token}, &body)
	return status, body.Error.Code
}

// TestAGatewayOnARedisThatCouldLoseCheckoutsRefusesThemAndSaysWhy runs a
// gateway on a Redis with appendfsync everysec, where Redis killed mid-sale
// once lost a checkout the shopper had been told was confirmed. The gateway
// must refuse checkouts with 503 not_durable and change nothing, say why on
// /readyz; and take them again once Redis fsyncs every write and the node
// has reconnected.
func TestAGatewayOnARedisThatCouldLoseCheckoutsRefusesThemAndSaysWhy(t *testing.T) {
	rs := volatileRedis(t)
	sys := startNodesOn(t, rs, 1, map[string]string{"FOYER_ALLOW_VOLATILE_REDIS": "false"})
	saleID := sys.createSale(t, map[string]any{"sku": "D-1", "name": "Durable", "stock": 2, "outflow_per_second": 100})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admitted, _ := admitOne(t, ctx, sys, saleID)

	before := sys.snapshot(t, saleID)
	if status, code := sys.tryCheckout(t, saleID, admitted.Token); status != http.StatusServiceUnavailable || code != "not_durable" {
		t.Fatalf("checkout on a Redis with appendfsync everysec: %d %q, want 503 not_durable", status, code)
	}
	sys.assertUnchanged(t, saleID, before, "a refused checkout")
	status, r, raw := readyz(t, sys.URL)
	// Still ready, queues and all: every gateway shares this Redis, and a
	// load balancer that took them all out would end every queue.
	if status != http.StatusOK || r.Status != "degraded" || !slices.Contains(r.Refusing, "checkout") ||
		!strings.Contains(r.Reason, "redis_persistence: appendfsync is everysec") {
		t.Fatalf("readyz: %d %s; want 200 degraded, refusing checkout, naming redis_persistence and appendfsync everysec", status, raw)
	}
	_, push, err := dialLive(t, ctx, sys, sys.AdminToken).Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var stats struct{ Warnings []string }
	if err := json.Unmarshal(push, &stats); err != nil || len(stats.Warnings) != 1 ||
		!strings.Contains(stats.Warnings[0], "appendfsync is everysec; checkouts are refused") {
		t.Fatalf("the dashboard's push %s (%v); want a warning that checkouts are refused", push, err)
	}

	// Fixed live: the node sees it on its next connection.
	if err := sys.Redis.ConfigSet(ctx, "appendfsync", "always").Err(); err != nil {
		t.Fatal(err)
	}
	if err := sys.Redis.Do(ctx, "CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes").Err(); err != nil {
		t.Fatal(err)
	}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		status, r, raw := readyz(t, sys.URL)
		if status == http.StatusOK && r.Status == "ready" {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("readyz after appendfsync always and a reconnect: %d %s", status, raw)
		case <-tick.C:
		}
	}
	if status, code := sys.tryCheckout(t, saleID, admitted.Token); status != http.StatusOK {
		t.Fatalf("checkout once Redis is durable: %d %q, want 200", status, code)
	}
}

// TestFoyerAllowVolatileRedisTakesCheckoutsAndWarns: the explicit setting
// for throwaway runs takes checkouts on the same Redis, and /readyz is
// ready but warns.
func TestFoyerAllowVolatileRedisTakesCheckoutsAndWarns(t *testing.T) {
	sys := startNodesOn(t, volatileRedis(t), 1, map[string]string{"FOYER_ALLOW_VOLATILE_REDIS": "true"})
	saleID := sys.createSale(t, map[string]any{"sku": "D-2", "name": "Volatile", "stock": 1, "outflow_per_second": 100})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admitted, _ := admitOne(t, ctx, sys, saleID)
	if status, code := sys.tryCheckout(t, saleID, admitted.Token); status != http.StatusOK {
		t.Fatalf("checkout with FOYER_ALLOW_VOLATILE_REDIS: %d %q, want 200", status, code)
	}
	status, r, raw := readyz(t, sys.URL)
	if status != http.StatusOK || len(r.Warnings) == 0 || !strings.Contains(r.Warnings[0], "appendfsync is everysec") {
		t.Fatalf("readyz: %d %s; want 200 with a warning about appendfsync", status, raw)
	}
}

// TestAGatewayThatMayNotReadRedisConfigWarnsAndTakesCheckouts: a managed
// Redis often refuses CONFIG. Durability cannot be checked there; the node
// says so on /readyz and takes checkouts, refusing nothing on a guess.
func TestAGatewayThatMayNotReadRedisConfigWarnsAndTakesCheckouts(t *testing.T) {
	rs := testenv.NewRedis(t)
	if err := testenv.RedisClient(t, rs).Do(t.Context(), "ACL", "SETUSER", "foyer", "on", ">managed-redis-password",
		"~*", "&*", "+@all", "-config").Err(); err != nil {
		t.Fatal(err)
	}
	sys := startNodesOn(t, rs, 1, map[string]string{"FOYER_ALLOW_VOLATILE_REDIS": "false",
		"FOYER_REDIS_URL": "redis://foyer:managed-redis-password@" + rs.Addr + "/0"})
	saleID := sys.createSale(t, map[string]any{"sku": "D-3", "name": "Managed", "stock": 1, "outflow_per_second": 100})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admitted, _ := admitOne(t, ctx, sys, saleID)
	if status, code := sys.tryCheckout(t, saleID, admitted.Token); status != http.StatusOK {
		t.Fatalf("checkout on a Redis that refuses CONFIG: %d %q, want 200", status, code)
	}
	status, r, raw := readyz(t, sys.URL)
	if status != http.StatusOK || len(r.Warnings) == 0 || !strings.Contains(r.Warnings[0], "cannot be checked") {
		t.Fatalf("readyz: %d %s; want 200 with a warning that persistence cannot be checked", status, raw)
	}
}

// TestReadyzNamesTheDependencyThatFailedAndNothingMore stops Redis under a
// gateway. /readyz used to answer with Redis's raw error, its address in
// it; it must name the dependency only (the node logs the error).
func TestReadyzNamesTheDependencyThatFailedAndNothingMore(t *testing.T) {
	rs := testenv.NewRedis(t)
	sys := startNodesOn(t, rs, 1, nil)
	if err := rs.Stop(); err != nil {
		t.Fatal(err)
	}
	status, r, raw := readyz(t, sys.URL)
	if status != http.StatusServiceUnavailable || r.Status != "unavailable" || !slices.Equal(r.Failed, []string{"redis"}) {
		t.Fatalf("readyz with Redis stopped: %d %s; want 503 failing redis", status, raw)
	}
	for _, leak := range []string{rs.Addr, "127.0.0.1", "dial", "connect", "refused", "error"} {
		if strings.Contains(raw, leak) {
			t.Errorf("readyz tells %q: %s", leak, raw)
		}
	}
}
