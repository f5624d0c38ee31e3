package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/foyerhq/foyer/waitingroom"
)

// jsCrowdResult is the JSON line clients/js/load/crowd.mjs prints.
type jsCrowdResult struct {
	Shoppers       int              `json:"shoppers"`
	Placed         int              `json:"placed"`
	Failed         int              `json:"failed"`
	Rose           int              `json:"rose"`
	Fell           int              `json:"fell"`
	Reconnects     int              `json:"reconnects"`
	Errors         map[string]int   `json:"errors"`
	JoinsPerSecond float64          `json:"joins_per_second"`
	AllPlacedMs    float64          `json:"all_placed_ms"`
	RSSBytes       float64          `json:"rss_bytes"`
	JoinLatencyMs  map[string]int64 `json:"join_latency_ms"`
}

// The Node load script (the 10,000-shopper run of docs/performance.md),
// kept from rotting by a small run of it: 500 shoppers of @foyer/client in
// one Node process, each with its own session, are all placed in a sale
// whose queue moves under them, and no one's position ever rises.
func TestTheNodeLoadScriptPlacesEveryShopperAndNoPositionRises(t *testing.T) {
	buildJSClient(t)
	sys := startSystem(t)
	const shoppers = 500
	// The queue moves while they join and watch (50 a second let out), so
	// positions fall and the script's check of them has something to see.
	saleID := sys.createSale(t, map[string]any{"sku": "JS-CROWD", "name": "JS crowd", "stock": 1000,
		"outflow_per_second": 50, "reservation_ttl_seconds": 300})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "--expose-gc", filepath.Join("load", "crowd.mjs"),
		"--url", sys.URL, "--sale", saleID, "--shoppers", fmt.Sprint(shoppers), "--timeout", "60", "--hold", "3")
	cmd.Dir = jsClientDir
	cmd.Stderr = newTestWriter(t)
	out, err := cmd.Output()
	var res jsCrowdResult
	if jerr := json.Unmarshal(out, &res); jerr != nil {
		t.Fatalf("the script printed no result (%v): %s", err, out)
	}
	t.Logf("%s", out)
	if err != nil {
		t.Errorf("the script failed: %v", err)
	}
	if res.Shoppers != shoppers || res.Placed != shoppers || res.Failed != 0 {
		t.Errorf("%d of %d shoppers placed, %d failed (errors %v), want all %d", res.Placed, res.Shoppers, res.Failed, res.Errors, shoppers)
	}
	if res.Rose != 0 {
		t.Errorf("%d positions rose; in a FIFO queue none may", res.Rose)
	}
	if res.Fell == 0 {
		t.Errorf("no position fell: the queue did not move under the crowd, so rising was never checked")
	}
	if res.JoinsPerSecond <= 0 || res.RSSBytes <= 0 {
		t.Errorf("the script measured no join rate or memory: %+v", res)
	}
	// Each shopper had its own session: one place each, in the queue or let
	// out of it (nobody checked out, and the holds outlast the test). Both
	// are read in one transaction: the queue moves between two reads.
	k := waitingroom.Keys(saleID)
	var queued *redis.IntCmd
	var let *redis.StringCmd
	if _, err := sys.Redis.TxPipelined(context.Background(), func(p redis.Pipeliner) error {
		queued, let = p.ZCard(context.Background(), k.Queue), p.HGet(context.Background(), k.Meta, "admitted")
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	inQueue := queued.Val()
	admitted, err := let.Int64()
	if err != nil {
		t.Fatal(err)
	}
	if inQueue+admitted != shoppers {
		t.Errorf("%d in the queue and %d let out, want the %d shoppers' places", inQueue, admitted, shoppers)
	}
}
