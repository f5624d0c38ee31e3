package app_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/foyerhq/foyer/internal/shopperclient"
	"github.com/foyerhq/foyer/waitingroom"
)

// behindNginx are the gateways' settings behind the tests' nginx, which
// reaches them from 127.0.0.1: that address alone is trusted to name the
// client, as a deployment trusts its load balancer's.
var behindNginx = map[string]string{"FOYER_TRUSTED_PROXIES": "127.0.0.1"}

// crowd is what each shopper of a test has been shown on its connections.
type crowd struct {
	mu       sync.Mutex
	changed  chan struct{} // closed and replaced at every change
	shoppers []seenByShopper
}

type seenByShopper struct {
	welcomes  int   // connections welcomed
	goingAway int   // connections the server ended with 1001
	position  int64 // shown on the current connection; 0 until then
}

func newCrowd(n int) *crowd {
	return &crowd{changed: make(chan struct{}), shoppers: make([]seenByShopper, n)}
}

func (c *crowd) update(i int, change func(s *seenByShopper)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	change(&c.shoppers[i])
	close(c.changed)
	c.changed = make(chan struct{})
}

// snapshot is what the shoppers have seen so far.
func (c *crowd) snapshot() []seenByShopper {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.shoppers)
}

// await waits until ok holds for what the shoppers have seen.
func (c *crowd) await(ctx context.Context, what string, ok func(seen []seenByShopper) bool) error {
	for {
		c.mu.Lock()
		done, changed := ok(c.shoppers), c.changed
		seen := slices.Clone(c.shoppers)
		c.mu.Unlock()
		if done {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w; the shoppers saw %+v", what, ctx.Err(), seen)
		}
	}
}

// follow runs shopper i of the crowd, a Shopper with the product client's
// reconnection, through url, and records what it is shown.
func (c *crowd) follow(t *testing.T, ctx context.Context, i int, url, saleID string) *shopperclient.Shopper {
	t.Helper()
	sh := shopperclient.NewShopper([]string{url}, saleID, shopperclient.OnDisconnect(func(err error, _ time.Duration) {
		c.update(i, func(s *seenByShopper) {
			s.position = 0
			if websocket.CloseStatus(err) == websocket.StatusGoingAway {
				s.goingAway++
			}
		})
	}))
	runShopper(t, ctx, sh)
	go func() {
		for m := range sh.Messages() {
			switch m.Type {
			case "welcome":
				c.update(i, func(s *seenByShopper) { s.welcomes++; s.position = 0 })
			case "position":
				c.update(i, func(s *seenByShopper) { s.position = m.Position })
			}
		}
	}()
	return sh
}

// TestShoppersBehindNginxKeepTheirPlacesWhenOneGatewayDrainsAndAnotherIsKilled
// puts three gateways behind nginx, configured as deploy/nginx says, and
// shoppers who know only nginx's address. One gateway drains (1001), then
// another is killed with SIGKILL (`foyer serve` as a process): every shopper
// reconnects through nginx, which steers it to a gateway that lives, and is
// shown the very place it had, one place each.
func TestShoppersBehindNginxKeepTheirPlacesWhenOneGatewayDrainsAndAnotherIsKilled(t *testing.T) {
	const shoppers = 150
	sys := startNodes(t, 1, behindNginx)
	drained := sys.startGateway(t, "node-drained")
	killed := sys.startGatewayProcess(t, "node-killed", behindNginx)
	lb := startNginx(t, sys.URL, drained.URL, killed.URL)
	saleID := sys.createSale(t, map[string]any{"sku": "LB-1", "name": "Behind nginx", "stock": 10, "outflow_per_second": stalled})
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()

	c := newCrowd(shoppers)
	for i := range shoppers {
		sh := c.follow(t, ctx, i, lb.URL(), saleID)
		if err := sh.Join(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.await(ctx, "every shopper's place", func(seen []seenByShopper) bool {
		return !slices.ContainsFunc(seen, func(s seenByShopper) bool { return s.position == 0 })
	}); err != nil {
		t.Fatal(err)
	}
	places := make([]int64, shoppers)
	for i, s := range c.snapshot() {
		places[i] = s.position
	}
	sorted := slices.Sorted(slices.Values(places))
	for i, p := range sorted {
		if p != int64(i+1) {
			t.Fatalf("the places shown are %v, want 1 to %d, one each", sorted, shoppers)
		}
	}
	// least_conn spread them: each gateway holds some.
	opsURLs := map[string]string{"node-1": sys.OpsURLs[0], "node-drained": drained.OpsURL, "node-killed": killed.OpsURL}
	held := map[string]int{}
	for node, ops := range opsURLs {
		held[node] = shopperConnections(t, ops)
		if held[node] == 0 {
			t.Errorf("nginx sent no shopper to %s: %v", node, held)
		}
	}
	t.Logf("nginx spread %d shoppers over the gateways: %v", shoppers, held)

	// placesKept says that every shopper is connected and shown the place
	// it had, after at least reconnected reconnections in all.
	placesKept := func(reconnected int) func([]seenByShopper) bool {
		return func(seen []seenByShopper) bool {
			welcomes := 0
			for i, s := range seen {
				if s.position != places[i] {
					return false
				}
				welcomes += s.welcomes
			}
			return welcomes >= shoppers+reconnected
		}
	}

	onDrained := shopperConnections(t, drained.OpsURL)
	drained.Stop()
	if err := c.await(ctx, "the drained gateway's shoppers back in place", placesKept(onDrained)); err != nil {
		t.Fatal(err)
	}
	goingAway := 0
	for _, s := range c.snapshot() {
		goingAway += s.goingAway
	}
	if goingAway < onDrained {
		t.Errorf("%d shoppers were told 1001 through nginx, want the %d of the drained gateway", goingAway, onDrained)
	}

	onKilled := shopperConnections(t, killed.OpsURL)
	if onKilled == 0 {
		t.Fatal("the gateway to kill holds no shopper: the test would prove nothing")
	}
	killed.Kill()
	if err := c.await(ctx, "the killed gateway's shoppers back in place", placesKept(onDrained+onKilled)); err != nil {
		t.Fatal(err)
	}
	if n := shopperConnections(t, sys.OpsURLs[0]); n != shoppers {
		t.Errorf("the gateway left holds %d shoppers, want all %d", n, shoppers)
	}
	if n := sys.Redis.ZCard(ctx, waitingroom.Keys(saleID).Queue).Val(); n != shoppers {
		t.Errorf("%d places in the queue, want %d: one each", n, shoppers)
	}
	t.Logf("%d shoppers moved off the drained gateway and %d off the killed one, each keeping its place", onDrained, onKilled)
}

// forgedFor is a transport that sends every request with an X-Forwarded-For
// naming another client, as a client trying to pass for it would.
type forgedFor struct {
	base *http.Transport
	as   string
}

func (f forgedFor) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("X-Forwarded-For", f.as)
	return f.base.RoundTrip(r)
}

// TestPerIPLimitsBehindNginxCountEachClientsAddressNotNginxs sends clients
// from different loopback addresses through nginx to three gateways that
// trust nginx alone: each address has its own budget of sessions and of open
// sockets, as if nginx were not there, and an address that forges an
// X-Forwarded-For is still counted as itself.
func TestPerIPLimitsBehindNginxCountEachClientsAddressNotNginxs(t *testing.T) {
	// One session a second per address (a burst of two): a bucket refills
	// slowly enough that no pause of a loaded machine refills it mid-test.
	settings := map[string]string{"FOYER_TRUSTED_PROXIES": "127.0.0.1", "FOYER_LIMIT_IP_SESSIONS": "1", "FOYER_MAX_CONNS_PER_IP": "2"}
	sys := startNodes(t, 3, settings)
	lb := startNginx(t, sys.URLs...)
	saleID := sys.createSale(t, map[string]any{"sku": "LB-2", "name": "Per address", "stock": 10, "outflow_per_second": stalled})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	from := func(ip string) *shopperclient.Client {
		return shopperclient.NewWithTransport(lb.URL(), transportFrom(ip))
	}
	session := func(c *shopperclient.Client, who string) shopperclient.Session {
		t.Helper()
		sess, err := c.NewSession(ctx)
		if err != nil {
			t.Fatalf("a session from %s: %v", who, err)
		}
		return sess
	}

	// 127.0.0.2 spends its burst of sessions, and is refused the rest.
	flood := from("127.0.0.2")
	refused := 0
	for range 10 {
		if _, err := flood.NewSession(ctx); err != nil {
			if code, _ := apiCode(err); code != "rate_limited" {
				t.Fatalf("a session from 127.0.0.2: %v", err)
			}
			refused++
		}
	}
	if refused < 6 {
		t.Fatalf("%d of 10 sessions from 127.0.0.2 refused, want all but its burst of 2 (and a refill or two)", refused)
	}
	// Its forged X-Forwarded-For is kept by nginx, but the gateway reads
	// the address nginx saw: still 127.0.0.2, still refused.
	forger := shopperclient.NewWithTransport(lb.URL(), forgedFor{base: transportFrom("127.0.0.2"), as: "127.0.0.7"})
	if _, err := forger.NewSession(ctx); err == nil {
		t.Error("127.0.0.2 got a session by naming 127.0.0.7 in X-Forwarded-For")
	} else if code, _ := apiCode(err); code != "rate_limited" {
		t.Errorf("127.0.0.2 forging X-Forwarded-For: %v, want rate_limited", err)
	}
	// Meanwhile 127.0.0.3, through the same nginx, has its own budget: had
	// the gateways counted nginx's address, it would be refused too.
	third := from("127.0.0.3")
	sessions := []shopperclient.Session{session(third, "127.0.0.3 after 127.0.0.2's flood")}

	// Open sockets are capped per address over every gateway: two from
	// 127.0.0.3, wherever nginx sends them, and the third is refused ...
	elsewhere := from("127.0.0.5")
	sessions = append(sessions, session(elsewhere, "127.0.0.5"), session(elsewhere, "127.0.0.5"))
	for i, sess := range sessions {
		conn, err := third.Connect(ctx, saleID, sess)
		if i < 2 {
			if err != nil {
				t.Fatalf("socket %d from 127.0.0.3: %v", i+1, err)
			}
			t.Cleanup(func() { conn.CloseNow() })
			expectMessage(t, ctx, conn, "welcome")
			continue
		}
		if err == nil {
			conn.CloseNow()
			t.Fatal("a third socket from 127.0.0.3 was opened under a cap of 2")
		}
		if code, _ := apiCode(err); code != "too_many_connections" {
			t.Errorf("the third socket from 127.0.0.3: %v, want too_many_connections", err)
		}
	}
	// ... while 127.0.0.4 opens its own.
	fourth := from("127.0.0.4")
	conn, err := fourth.Connect(ctx, saleID, session(fourth, "127.0.0.4"))
	if err != nil {
		t.Fatalf("a socket from 127.0.0.4 while 127.0.0.3 is at its cap: %v", err)
	}
	defer conn.CloseNow()
	expectMessage(t, ctx, conn, "welcome")
}

// TestNginxRefusesTheBodiesAGatewayRefusesAndPassesTheRest posts, to a route
// of each body cap, a body one byte past the cap and one at it, to a gateway
// and through nginx: both refuse the first with 413 too_large, and nginx
// passes the second on (whatever the gateway makes of it), so the caps of
// deploy/nginx/foyer.conf are Foyer's.
func TestNginxRefusesTheBodiesAGatewayRefusesAndPassesTheRest(t *testing.T) {
	sys := startNodes(t, 1, behindNginx)
	lb := startNginx(t, sys.URL)
	post := func(base, path string, size int) (int, string) {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, base+path, strings.NewReader(strings.Repeat("x", size)))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("POST %s%s: %v", base, path, err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	for _, tc := range []struct {
		path string
		cap  int
	}{
		{"/v1/sessions", 16 << 10},
		{"/v1/sales/s_unknown/checkout", 16 << 10},
		{"/v1/admin/sales", 64 << 10},
		{"/v1/payments/webhook", 256 << 10},
		{"/v1/admin/sales/s_unknown/invitees", 4 << 20},
	} {
		for name, base := range map[string]string{"the gateway": sys.URL, "nginx": lb.URL()} {
			status, body := post(base, tc.path, tc.cap+1)
			if status != http.StatusRequestEntityTooLarge || !strings.Contains(body, `"code":"too_large"`) {
				t.Errorf("%s answered %d bytes to %s with %d %q, want 413 too_large", name, tc.cap+1, tc.path, status, body)
			}
		}
		if status, body := post(lb.URL(), tc.path, tc.cap); status == http.StatusRequestEntityTooLarge {
			t.Errorf("nginx refused %d bytes to %s, the gateway's cap: %q", tc.cap, tc.path, body)
		}
	}
}
