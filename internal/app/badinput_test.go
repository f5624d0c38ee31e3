package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/foyerhq/foyer/checkout"
	"github.com/foyerhq/foyer/internal/keyring"
	"github.com/foyerhq/foyer/internal/shopperclient"
	"github.com/foyerhq/foyer/waitingroom"
)

// snapshot is everything a bad request must leave as it was.
type snapshot struct {
	meta   map[string]string
	queue  int64
	orders int
}

func (s *system) snapshot(t *testing.T, saleID string) snapshot {
	t.Helper()
	k := waitingroom.Keys(saleID)
	meta, err := s.Redis.HGetAll(context.Background(), k.Meta).Result()
	if err != nil {
		t.Fatal(err)
	}
	queue, err := s.Redis.ZCard(context.Background(), k.Queue).Result()
	if err != nil {
		t.Fatal(err)
	}
	return snapshot{meta: meta, queue: queue, orders: s.countOrders(t, saleID)}
}

func (s *system) assertUnchanged(t *testing.T, saleID string, before snapshot, what string) {
	t.Helper()
	after := s.snapshot(t, saleID)
	if after.queue != before.queue || after.orders != before.orders {
		t.Errorf("%s changed the queue (%d -> %d) or orders (%d -> %d)", what,
			before.queue, after.queue, before.orders, after.orders)
	}
	for k, v := range before.meta {
		if after.meta[k] != v {
			t.Errorf("%s changed sale field %s: %q -> %q", what, k, v, after.meta[k])
		}
	}
}

// expectMessage reads until a message of the given type arrives.
func expectMessage(t *testing.T, ctx context.Context, conn *shopperclient.Conn, typ string) shopperclient.Message {
	t.Helper()
	for {
		m, err := conn.Next(ctx)
		if err != nil {
			t.Fatalf("waiting for %s: %v", typ, err)
		}
		if m.Type == typ {
			return m
		}
	}
}

// expectClose reads until the server closes, and returns the close code.
func expectClose(t *testing.T, ctx context.Context, conn *shopperclient.Conn) websocket.StatusCode {
	t.Helper()
	for {
		if _, err := conn.Next(ctx); err != nil {
			return websocket.CloseStatus(err)
		}
	}
}

func TestMalformedMessagesGetBadMessageAndChangeNothing(t *testing.T) {
	sys := startSystem(t)
	saleID := sys.createSale(t, map[string]any{"sku": "B-1", "name": "Bad input", "stock": 5,
		"starts_at": startsIn(time.Hour)})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, _ := connectNew(t, ctx, sys.URL, saleID)
	expectMessage(t, ctx, conn, "welcome")
	before := sys.snapshot(t, saleID)
	for _, bad := range []string{`not json{`, `{"type":"teleport"}`, `{"type":"leave"}`, `[]`} {
		if err := conn.SendRaw(ctx, []byte(bad)); err != nil {
			t.Fatal(err)
		}
		m := expectMessage(t, ctx, conn, "error")
		want := "bad_message"
		if bad == `{"type":"leave"}` {
			want = "not_joined"
		}
		if m.Code != want {
			t.Errorf("after %s: error code %q, want %q", bad, m.Code, want)
		}
	}
	sys.assertUnchanged(t, saleID, before, "malformed messages")
}

func TestUnknownSaleIsRefusedOverHTTPAndWebSocket(t *testing.T) {
	sys := startSystem(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, path := range []string{"/v1/sales/s_nosuchsale", "/v1/sales/NOT%20AN%20ID"} {
		var body struct{ Error struct{ Code string } }
		if status := sys.call(t, http.MethodGet, path, "", nil, &body); status != http.StatusNotFound || body.Error.Code != "sale_not_found" {
			t.Errorf("GET %s: %d %q, want 404 sale_not_found", path, status, body.Error.Code)
		}
	}
	conn, _ := connectNew(t, ctx, sys.URL, "s_nosuchsale")
	if m := expectMessage(t, ctx, conn, "error"); m.Code != "sale_not_found" {
		t.Errorf("error code %q, want sale_not_found", m.Code)
	}
	if code := expectClose(t, ctx, conn); code != 4004 {
		t.Errorf("close code %d, want 4004", code)
	}
	if keys, _ := sys.Redis.Keys(ctx, "sale:*").Result(); len(keys) != 0 {
		t.Errorf("an unknown sale left keys in Redis: %v", keys)
	}
}

func TestAnInvalidSessionIsRefused(t *testing.T) {
	sys := startSystem(t)
	saleID := sys.createSale(t, map[string]any{"sku": "B-2", "name": "Sessions", "stock": 1})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := shopperclient.New(sys.URL).Connect(ctx, saleID, shopperclient.Session{Token: "forged"})
	if err != nil {
		t.Fatal(err)
	}
	if m := expectMessage(t, ctx, conn, "error"); m.Code != "session_invalid" {
		t.Errorf("error code %q, want session_invalid", m.Code)
	}
	if code := expectClose(t, ctx, conn); code != 4001 {
		t.Errorf("close code %d, want 4001", code)
	}
}

// admitOne joins one shopper to an open sale and returns its admitted message.
func admitOne(t *testing.T, ctx context.Context, sys *system, saleID string) (shopperclient.Message, *shopperclient.Conn) {
	t.Helper()
	conn, _ := connectNew(t, ctx, sys.URL, saleID)
	if err := conn.Join(ctx); err != nil {
		t.Fatal(err)
	}
	return expectMessage(t, ctx, conn, "admitted"), conn
}

func TestBadReservationTokensAreRejectedEachWithItsCode(t *testing.T) {
	sys := startSystem(t)
	saleID := sys.createSale(t, map[string]any{"sku": "B-3", "name": "Tokens", "stock": 3, "outflow_per_second": 100})
	otherSale := sys.createSale(t, map[string]any{"sku": "B-4", "name": "Other", "stock": 3, "outflow_per_second": 100})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admitted, conn := admitOne(t, ctx, sys, saleID)
	claims, err := checkout.NewTokens(mustRing(t, sys.Seed)).Verify(saleID, admitted.Token)
	if err != nil {
		t.Fatal(err)
	}
	res := waitingroom.Reservation{ID: admitted.ReservationID, Shopper: claims.Subject,
		AdmittedAtMs: time.Now().Add(-time.Hour).UnixMilli(), ExpiresAtMs: time.Now().Add(-time.Minute).UnixMilli()}
	expired, _ := checkout.NewTokens(mustRing(t, sys.Seed)).Issue(saleID, res)
	res.ExpiresAtMs = time.Now().Add(time.Hour).UnixMilli()
	forged, _ := checkout.NewTokens(mustRing(t, keyring.NewSeed())).Issue(saleID, res)
	otherAdmitted, _ := admitOne(t, ctx, sys, otherSale)

	checkoutPath := "/v1/sales/" + saleID + "/checkout"
	cases := []struct {
		name, token string
		status      int
		code        string
	}{
		{"garbage", "not.a.token", http.StatusUnauthorized, "token_invalid"},
		{"forged", forged, http.StatusUnauthorized, "token_invalid"},
		{"expired", expired, http.StatusUnauthorized, "token_expired"},
		{"another sale's", otherAdmitted.Token, http.StatusForbidden, "token_wrong_sale"},
	}
	before := sys.snapshot(t, saleID)
	for _, tc := range cases {
		var body struct{ Error struct{ Code string } }
		status := sys.call(t, http.MethodPost, checkoutPath, "", map[string]string{"token": tc.token}, &body)
		if status != tc.status || body.Error.Code != tc.code {
			t.Errorf("%s token: %d %q, want %d %q", tc.name, status, body.Error.Code, tc.status, tc.code)
		}
	}
	var body struct{ Error struct{ Code string } }
	if status := sys.call(t, http.MethodPost, checkoutPath, "", map[string]string{}, &body); status != http.StatusBadRequest || body.Error.Code != "bad_request" {
		t.Errorf("no token: %d %q, want 400 bad_request", status, body.Error.Code)
	}
	sys.assertUnchanged(t, saleID, before, "bad tokens")

	// The real token works once; its replay is refused and sells nothing more.
	if status := sys.call(t, http.MethodPost, checkoutPath, "", map[string]string{"token": admitted.Token}, nil); status != http.StatusOK {
		t.Fatalf("first checkout: status %d", status)
	}
	if m := expectMessage(t, ctx, conn, "order"); m.Status != "pending_payment" {
		t.Fatalf("order status %q", m.Status)
	}
	before = sys.snapshot(t, saleID)
	status := sys.call(t, http.MethodPost, checkoutPath, "", map[string]string{"token": admitted.Token}, &body)
	if status != http.StatusConflict || body.Error.Code != "token_reused" {
		t.Errorf("replayed token: %d %q, want 409 token_reused", status, body.Error.Code)
	}
	sys.assertUnchanged(t, saleID, before, "a replayed token")
	if before.orders != 1 || before.meta["sold"] != "1" {
		t.Errorf("after one checkout: %d orders, sold %s; want 1 and 1", before.orders, before.meta["sold"])
	}
}

func TestAdminAPIRefusesStrangersAndBadPlans(t *testing.T) {
	sys := startSystem(t)
	var body struct{ Error struct{ Code string } }
	if status := sys.call(t, http.MethodGet, "/v1/admin/sales", "wrong", nil, &body); status != http.StatusUnauthorized || body.Error.Code != "unauthorized" {
		t.Errorf("wrong admin token: %d %q", status, body.Error.Code)
	}
	bad := map[string]any{"sku": "", "name": "x", "stock": 0, "price_cents": -1}
	if status := sys.call(t, http.MethodPost, "/v1/admin/sales", sys.AdminToken, bad, &body); status != http.StatusUnprocessableEntity || body.Error.Code != "invalid_sale" {
		t.Errorf("bad plan: %d %q, want 422 invalid_sale", status, body.Error.Code)
	}
	if status := sys.call(t, http.MethodPost, "/v1/admin/sales", sys.AdminToken, "not an object", &body); status != http.StatusBadRequest || body.Error.Code != "bad_request" {
		t.Errorf("not JSON object: %d %q, want 400 bad_request", status, body.Error.Code)
	}
	var n int
	if err := sys.DB.Get(&n, `SELECT count(*) FROM sales`); err != nil || n != 0 {
		t.Errorf("bad plans left %d sales (err %v)", n, err)
	}
	if keys, _ := sys.Redis.Keys(context.Background(), "sale:*").Result(); len(keys) != 0 {
		t.Errorf("bad plans left keys in Redis: %v", keys)
	}
}

func mustRing(t *testing.T, seed string) *keyring.Ring {
	t.Helper()
	r, err := keyring.New(seed)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestARetiredKeyVerifiesUntilItsWindowClosesAndNotAfter configures two
// retired keys, one still in its window and one past it, and checks out
// with a token signed by each.
func TestARetiredKeyVerifiesUntilItsWindowClosesAndNotAfter(t *testing.T) {
	current, inWindow, pastWindow := keyring.NewSeed(), keyring.NewSeed(), keyring.NewSeed()
	keys := current + "," + inWindow + "@" + time.Now().Add(time.Hour).UTC().Format(time.RFC3339) +
		"," + pastWindow + "@" + time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
	sys := startNodes(t, 1, map[string]string{"FOYER_SIGNING_KEYS": keys})
	sys.Seed = current
	saleID := sys.createSale(t, map[string]any{"sku": "K-1", "name": "Keys", "stock": 5, "outflow_per_second": 100})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	reissue := func(admitted shopperclient.Message, seed string) string {
		claims, err := checkout.NewTokens(mustRing(t, current)).Verify(saleID, admitted.Token)
		if err != nil {
			t.Fatal(err)
		}
		token, err := checkout.NewTokens(mustRing(t, seed)).Issue(saleID, waitingroom.Reservation{
			ID: claims.ID, Shopper: claims.Subject,
			AdmittedAtMs: claims.IssuedAt.UnixMilli(), ExpiresAtMs: claims.ExpiresAt.UnixMilli()})
		if err != nil {
			t.Fatal(err)
		}
		return token
	}
	path := "/v1/sales/" + saleID + "/checkout"
	old, _ := admitOne(t, ctx, sys, saleID)
	var body struct{ Error struct{ Code string } }
	status := sys.call(t, http.MethodPost, path, "", map[string]string{"token": reissue(old, pastWindow)}, &body)
	if status != http.StatusUnauthorized || body.Error.Code != "token_key_retired" {
		t.Errorf("a key past its window: %d %q, want 401 token_key_retired", status, body.Error.Code)
	}
	if status := sys.call(t, http.MethodPost, path, "", map[string]string{"token": reissue(old, inWindow)}, nil); status != http.StatusOK {
		t.Errorf("a retired key in its window: %d, want 200", status)
	}
	var jwks struct{ Keys []struct{ Kid string } }
	sys.call(t, http.MethodGet, "/.well-known/jwks.json", "", nil, &jwks)
	if len(jwks.Keys) != 2 {
		t.Errorf("JWKS lists %d keys, want the current one and the one still in its window", len(jwks.Keys))
	}
}

func TestAShopperMayBuyUpToTheLimitAndNoMore(t *testing.T) {
	sys := startSystem(t)
	saleID := sys.createSale(t, map[string]any{"sku": "L-1", "name": "Limit", "stock": 4,
		"outflow_per_second": 100, "per_shopper_limit": 3})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admitted, conn := admitOne(t, ctx, sys, saleID)
	path := "/v1/sales/" + saleID + "/checkout"
	before := sys.snapshot(t, saleID)
	var body struct {
		Error    struct{ Code string }
		Quantity int
	}
	status := sys.call(t, http.MethodPost, path, "", map[string]any{"token": admitted.Token, "quantity": 4}, &body)
	if status != http.StatusUnprocessableEntity || body.Error.Code != "quantity_over_limit" {
		t.Errorf("4 over a limit of 3: %d %q, want 422 quantity_over_limit", status, body.Error.Code)
	}
	if status := sys.call(t, http.MethodPost, path, "", map[string]any{"token": admitted.Token, "quantity": 0}, &body); status != http.StatusBadRequest {
		t.Errorf("quantity 0: %d, want 400", status)
	}
	sys.assertUnchanged(t, saleID, before, "refused quantities")
	status = sys.call(t, http.MethodPost, path, "", map[string]any{"token": admitted.Token, "quantity": 3}, &body)
	if status != http.StatusOK || body.Quantity != 3 {
		t.Fatalf("3 within the limit: %d, quantity %d", status, body.Quantity)
	}
	expectMessage(t, ctx, conn, "order")
	var quantity, sold int
	sys.DB.Get(&quantity, `SELECT quantity FROM orders WHERE sale_id = $1`, saleID)
	sys.DB.Get(&sold, `SELECT sold FROM sales WHERE id = $1`, saleID)
	if quantity != 3 || sold != 3 {
		t.Errorf("order quantity %d, sold %d; want 3 and 3", quantity, sold)
	}
}

// postCheckout sends a checkout with an Idempotency-Key and returns the
// status, the body and whether the server says it replayed an answer.
func (s *system) postCheckout(t *testing.T, saleID, key string, body map[string]any) (int, string, bool) {
	t.Helper()
	raw, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/v1/sales/"+saleID+"/checkout", bytes.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(answer), resp.Header.Get("Idempotent-Replayed") == "true"
}

func TestAReplayedIdempotencyKeyGetsTheSameAnswerAndDoesNothingMore(t *testing.T) {
	sys := startSystem(t)
	saleID := sys.createSale(t, map[string]any{"sku": "I-1", "name": "Idempotent", "stock": 5, "outflow_per_second": 100})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admitted, conn := admitOne(t, ctx, sys, saleID)
	req := map[string]any{"token": admitted.Token}
	status, first, replayed := sys.postCheckout(t, saleID, "key-1", req)
	if status != http.StatusOK || replayed {
		t.Fatalf("first checkout: %d %s (replayed %v)", status, first, replayed)
	}
	expectMessage(t, ctx, conn, "order")
	before := sys.snapshot(t, saleID)
	status, again, replayed := sys.postCheckout(t, saleID, "key-1", req)
	if status != http.StatusOK || again != first || !replayed {
		t.Errorf("replay: %d %s (replayed %v), want the first answer %s again", status, again, replayed, first)
	}
	sys.assertUnchanged(t, saleID, before, "a replayed checkout")
	// Keys are each shopper's own (checkout_hardening_test.go): the key sent
	// again by its shopper with another request is refused.
	if status, body, _ := sys.postCheckout(t, saleID, "key-1", map[string]any{"token": admitted.Token, "quantity": 2}); status != http.StatusUnprocessableEntity || !strings.Contains(body, "idempotency_key_reused") {
		t.Errorf("the key with another request: %d %s, want 422 idempotency_key_reused", status, body)
	}
	if status, body, _ := sys.postCheckout(t, saleID, "key-2", req); status != http.StatusConflict || !strings.Contains(body, "token_reused") {
		t.Errorf("a new key with a used token: %d %s, want 409 token_reused", status, body)
	}
	sys.assertUnchanged(t, saleID, before, "refused checkouts")
}

// TestSessionsAndReservationTokensAreNotInterchangeable: a session made
// before sessions were MACed (Ed25519, as reservation tokens are) still
// opens a socket as its shopper; a reservation token is no session (close
// 4001), and a session is no reservation token (401 at checkout).
func TestSessionsAndReservationTokensAreNotInterchangeable(t *testing.T) {
	sys := startSystem(t)
	saleID := sys.createSale(t, map[string]any{"sku": "K-2", "name": "Tokens", "stock": 5, "outflow_per_second": 100})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ring := mustRing(t, sys.Seed)
	client := shopperclient.New(sys.URL)

	legacy, err := ring.Sign(ring.NewClaims("v_legacy", "foyer:session", "", time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	conn, err := client.Connect(ctx, saleID, shopperclient.Session{ShopperID: "v_legacy", Token: legacy})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	if m := expectMessage(t, ctx, conn, "welcome"); m.You.ShopperID != "v_legacy" {
		t.Fatalf("an Ed25519 session from before was welcomed as %q", m.You.ShopperID)
	}

	admitted, _ := admitOne(t, ctx, sys, saleID)
	asSession, err := client.Connect(ctx, saleID, shopperclient.Session{Token: admitted.Token})
	if err != nil {
		t.Fatal(err)
	}
	defer asSession.CloseNow()
	if code := expectClose(t, ctx, asSession); code != 4001 {
		t.Errorf("a reservation token as a session: close %d, want 4001", code)
	}

	sess, err := client.NewSession(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var body struct{ Error struct{ Code string } }
	status := sys.call(t, http.MethodPost, "/v1/sales/"+saleID+"/checkout", "", map[string]string{"token": sess.Token}, &body)
	if status != http.StatusUnauthorized {
		t.Errorf("a session as a reservation token: %d %q, want 401", status, body.Error.Code)
	}
}
