package app_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/foyerhq/foyer/internal/app"
	"github.com/foyerhq/foyer/internal/wire"
)

// TestADrainedGatewayGivesBackEveryConnectionCountBeforeRunReturns: a
// draining gateway closes its sockets, and each socket's clean-up records the
// shopper's departure and gives its places under the per-IP and per-shopper
// caps back, in Redis. That clean-up used to run after Run had returned,
// racing the Redis client's Close: it logged "redis: client is closed" and
// the counts stayed taken until the node's lease lapsed, so a shopper coming
// back to another node could be refused too_many_connections. Now Run
// returns once every clean-up has run.
func TestADrainedGatewayGivesBackEveryConnectionCountBeforeRunReturns(t *testing.T) {
	const shoppers = 20
	sys := startNodes(t, 1, map[string]string{"FOYER_MAX_CONNS_PER_IP": "1000", "FOYER_MAX_CONNS_PER_SHOPPER": "4"})
	saleID := sys.createSale(t, map[string]any{"sku": "D-9", "name": "Drain clean", "stock": 5, "outflow_per_second": stalled})

	logs := &lockedLog{}
	cfg := sys.cfg
	cfg.NodeID = "node-drained-clean"
	runCtx, drain := context.WithCancel(context.Background())
	gw, err := app.NewGateway(runCtx, cfg, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		t.Fatal(err)
	}
	ran := make(chan struct{})
	go func() { _ = gw.Run(runCtx); close(ran) }()
	t.Cleanup(func() { drain(); <-ran; gw.Close() })

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for range shoppers {
		// Each shopper joins, then stops reading, as a phone gone to sleep
		// does: the drain's close handshake then waits for it in vain, and
		// its socket's clean-up runs only as the drain ends.
		s := newShopper(t, ctx, gw.URL())
		url := "ws" + strings.TrimPrefix(gw.URL(), "http") + "/v1/sales/" + saleID + "/ws?join=1&session=" + s.sess.Token
		ws, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{wire.Subprotocol}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ws.CloseNow() })
		for placed := false; !placed; {
			_, data, err := ws.Read(ctx)
			if err != nil {
				t.Fatal(err)
			}
			placed = strings.Contains(string(data), `"type":"position"`)
		}
	}
	if taken := connectionCounts(t, ctx, sys); taken != 2*shoppers {
		t.Fatalf("%d connections counted before the drain, want %d (one per IP and one per shopper each)", taken, 2*shoppers)
	}

	drain()
	<-ran
	if left := connectionCounts(t, ctx, sys); left != 0 {
		t.Errorf("%d connection counts still taken when Run returned", left)
	}
	gw.Close()
	if strings.Contains(logs.String(), "client is closed") {
		t.Errorf("the drain used Redis after it was closed:\n%s", logs.String())
	}
}

// connectionCounts sums the connections counted under every cap's key
// (internal/defence/ratelimit's Conns: a sorted set per key).
func connectionCounts(t *testing.T, ctx context.Context, sys *system) int64 {
	t.Helper()
	keys, err := sys.Redis.Keys(ctx, "foyer:rl:conns:*").Result()
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, k := range keys {
		c, err := sys.Redis.ZCard(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		n += c
	}
	return n
}

// lockedLog is a log's output read by the test while the node writes it.
type lockedLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *lockedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}
