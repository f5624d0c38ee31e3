package app_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/foyerhq/foyer/waitingroom"
)

// TestACheckoutAnsweredWhileTheGatewayDrainsIsPublishedBeforeItStops: a
// checkout still being read when the gateway is told to stop is answered
// within the shutdown grace, and its confirmation must leave for the order
// workers before the gateway is gone. The batcher and the outbox relay used
// to stop with the signal, so such a confirmation sat in the sale's outbox
// until another node's relay, or this node's restart, sent it.
func TestACheckoutAnsweredWhileTheGatewayDrainsIsPublishedBeforeItStops(t *testing.T) {
	// The per-IP request limit is on only to show, in Redis, that the
	// draining node has read the request's headers (below).
	sys := startNodes(t, 1, map[string]string{"FOYER_LIMIT_IP_REQUESTS": "1000"})
	saleID := sys.createSale(t, map[string]any{"sku": "DRAIN-1", "name": "Drain", "stock": 2, "outflow_per_second": 100})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admitted, _ := admitOne(t, ctx, sys, saleID)
	draining := sys.startGateway(t, "draining")

	// Headers and half the body now; the rest once the node is stopping.
	// A connection that is not idle is waited for by the drain, so the
	// request is served however far the server had read it.
	body, _ := json.Marshal(map[string]any{"token": admitted.Token})
	u, _ := url.Parse(draining.URL)
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	half := len(body) / 2
	// The per-IP counter is a GCRA timestamp that lapses within
	// milliseconds at this rate: what is read is the counters' values, and
	// a value other than before (none, or a lapsed one) is the request's.
	counted := func() string {
		keys, err := sys.Redis.Keys(ctx, "*ip_requests*").Result()
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(keys)
		var vals []string
		for _, k := range keys {
			if v := sys.Redis.Get(ctx, k).Val(); v != "" { // "": lapsed since KEYS
				vals = append(vals, k+"="+v)
			}
		}
		return strings.Join(vals, ",")
	}
	before := counted()
	fmt.Fprintf(conn, "POST /v1/sales/%s/checkout HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		saleID, u.Host, len(body), body[:half])
	// The node counts a request once it has read its headers: from then on
	// the drain waits for it. Stopped before, the request could still sit
	// in the listener's backlog, which closing the listener drops.
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for now := counted(); now == before || now == ""; now = counted() {
		select {
		case <-ctx.Done():
			t.Fatal("the draining node never read the checkout's headers")
		case <-tick.C:
		}
	}
	stopped := make(chan struct{})
	go func() { draining.Stop(); close(stopped) }()
	if _, err := conn.Write(body[half:]); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("a checkout read during the drain: %d, want 200", resp.StatusCode)
	}
	<-stopped

	// The node has stopped: what it confirmed is out of the outbox (the
	// other node's relay takes only entries older than a few seconds).
	left, _, err := waitingroom.NewRooms(sys.Redis).Outbox(ctx, saleID, time.Now().Add(time.Hour), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 0 {
		t.Fatalf("%d confirmation(s) left in the outbox by a gateway that has stopped: %+v", len(left), left)
	}
}
