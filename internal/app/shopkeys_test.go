package app_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// shopKey is a key as POST /v1/admin/shop-keys answers it.
type shopKey struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Scopes     []string   `json:"scopes"`
	Key        string     `json:"key"`
	RevokedAt  *time.Time `json:"revoked_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
}

// createShopKey makes a key through the admin API.
func (s *system) createShopKey(t *testing.T, name string, scopes ...string) shopKey {
	t.Helper()
	var k shopKey
	if status := s.call(t, http.MethodPost, "/v1/admin/shop-keys", s.AdminToken,
		map[string]any{"name": name, "scopes": scopes}, &k); status != http.StatusCreated {
		t.Fatalf("create shop key: %d", status)
	}
	if !strings.HasPrefix(k.Key, "fk_"+k.ID+"_") {
		t.Fatalf("key %q is not fk_<id>_<secret> for id %q", k.Key, k.ID)
	}
	return k
}

// shopCall sends a request with a shop key and returns the status and error code.
func (s *system) shopCall(t *testing.T, path, key string) (int, string) {
	t.Helper()
	var out struct{ Error struct{ Code string } }
	status := s.call(t, http.MethodGet, path, key, nil, &out)
	return status, out.Error.Code
}

// shopKeyState is what a refused request must leave as it was: the audit
// log, and every key's last use.
type shopKeyState struct {
	audits   int
	lastUsed string
}

func (s *system) shopKeyState(t *testing.T) shopKeyState {
	t.Helper()
	var lastUsed string
	if err := s.DB.Get(&lastUsed, `SELECT coalesce(string_agg(id || '=' || coalesce(last_used_at::text, '-'), ',' ORDER BY id), '')
		FROM shop_keys`); err != nil {
		t.Fatal(err)
	}
	return shopKeyState{s.count(t, `SELECT count(*) FROM admin_actions`), lastUsed}
}

func TestAShopKeyScopedOrdersReadsASalesOrdersAndItsSecretIsShownOnceAndNeverStored(t *testing.T) {
	sys := startNodes(t, 1, map[string]string{"FOYER_PAYMENT_OUTCOME": "never"})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	saleID, bought := ordersSale(t, ctx, sys, 1)
	k := sys.createShopKey(t, "back office", "orders", "orders")
	if len(k.Scopes) != 1 || k.Scopes[0] != "orders" {
		t.Errorf("scopes %v, want [orders]", k.Scopes)
	}

	var page ordersPage
	if status := sys.call(t, http.MethodGet, "/v1/shop/sales/"+saleID+"/orders", k.Key, nil, &page); status != http.StatusOK {
		t.Fatalf("shop orders: %d", status)
	}
	if len(page.Orders) != 1 || page.Orders[0].ReservationID != bought[0] {
		t.Errorf("shop orders %+v, want the one bought", page.Orders)
	}
	req, _ := http.NewRequest(http.MethodGet, sys.URL+"/v1/shop/sales/"+saleID+"/orders.csv", nil)
	req.Header.Set("Authorization", "Bearer "+k.Key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	records, err := csv.NewReader(strings.NewReader(string(raw))).ReadAll()
	if resp.StatusCode != http.StatusOK || err != nil || len(records) != 2 || records[1][0] != bought[0] {
		t.Errorf("shop orders.csv: %d %v %q", resp.StatusCode, err, raw)
	}

	// Listed, but never with its secret.
	var listed json.RawMessage
	if status := sys.call(t, http.MethodGet, "/v1/admin/shop-keys", sys.AdminToken, nil, &listed); status != http.StatusOK {
		t.Fatalf("list shop keys: %d", status)
	}
	secret := strings.TrimPrefix(k.Key, "fk_"+k.ID+"_")
	if strings.Contains(string(listed), secret) || !strings.Contains(string(listed), k.ID) {
		t.Errorf("the list shows the secret, or not the key: %s", listed)
	}
	var list struct{ Keys []shopKey }
	_ = json.Unmarshal(listed, &list)
	if len(list.Keys) != 1 || list.Keys[0].Key != "" || list.Keys[0].LastUsedAt == nil {
		t.Errorf("listed %+v, want the one key, used, without its secret", list.Keys)
	}
	// Postgres holds its hash, and the secret nowhere.
	if n := sys.count(t, `SELECT count(*) FROM shop_keys k WHERE row_to_json(k)::text LIKE '%' || $1 || '%'`, secret); n != 0 {
		t.Error("shop_keys holds the secret")
	}
	if n := sys.count(t, `SELECT count(*) FROM admin_actions WHERE detail::text LIKE '%' || $1 || '%'`, secret); n != 0 {
		t.Error("the audit log holds the secret")
	}
	if n := sys.count(t, `SELECT count(*) FROM admin_actions WHERE action = 'shop_key_created' AND detail->>'key_id' = $1`, k.ID); n != 1 {
		t.Errorf("%d shop_key_created rows, want 1", n)
	}
	if n := sys.count(t, `SELECT count(*) FROM admin_actions WHERE action = 'shop_key_used'
		AND detail->>'key_id' = $1 AND detail->>'scope' = 'orders'`, k.ID); n != 2 {
		t.Errorf("%d shop_key_used rows, want 2 (the page and the CSV)", n)
	}
}

func TestARevokedShopKeyIsRefusedAndRevokingTwiceIsAuditedOnce(t *testing.T) {
	sys := startSystem(t)
	saleID := sys.createSale(t, map[string]any{"sku": "K-1", "name": "Keys", "stock": 1, "price_cents": 100, "currency": "USD"})
	k := sys.createShopKey(t, "soon gone", "orders")
	if status, _ := sys.shopCall(t, "/v1/shop/sales/"+saleID+"/orders", k.Key); status != http.StatusOK {
		t.Fatalf("before revoking: %d", status)
	}
	for range 2 {
		var revoked shopKey
		if status := sys.call(t, http.MethodDelete, "/v1/admin/shop-keys/"+k.ID, sys.AdminToken, nil, &revoked); status != http.StatusOK || revoked.RevokedAt == nil {
			t.Fatalf("revoke: %d %+v", status, revoked)
		}
	}
	if n := sys.count(t, `SELECT count(*) FROM admin_actions WHERE action = 'shop_key_revoked' AND detail->>'key_id' = $1`, k.ID); n != 1 {
		t.Errorf("%d shop_key_revoked rows, want 1", n)
	}
	before := sys.shopKeyState(t)
	if status, code := sys.shopCall(t, "/v1/shop/sales/"+saleID+"/orders", k.Key); status != http.StatusUnauthorized || code != "shop_key_invalid" {
		t.Errorf("a revoked key: %d %q, want 401 shop_key_invalid", status, code)
	}
	sys.expect(t, http.MethodDelete, "/v1/admin/shop-keys/000000000000", nil, http.StatusNotFound, "shop_key_unknown")
	if after := sys.shopKeyState(t); after != before {
		t.Errorf("refusals changed %+v into %+v", before, after)
	}
}

func TestABadOrMissingShopKeyIs401AndAKeyWithoutTheScopeIs403AndNeitherIsRecorded(t *testing.T) {
	sys := startSystem(t)
	saleID := sys.createSale(t, map[string]any{"sku": "K-2", "name": "Keys", "stock": 1, "price_cents": 100, "currency": "USD"})
	path := "/v1/shop/sales/" + saleID + "/orders"
	redeemOnly := sys.createShopKey(t, "redeemer", "redeem", "webhooks")
	orders := sys.createShopKey(t, "reader", "orders")
	before := sys.shopKeyState(t)
	for name, key := range map[string]string{
		"no key":          "",
		"the admin token": sys.AdminToken,
		"malformed":       "fk_nonsense",
		"no prefix":       strings.TrimPrefix(orders.Key, "fk_"),
		"wrong secret":    orders.Key[:len(orders.Key)-4] + "AAAA",
		"unknown id":      "fk_000000000000_" + strings.TrimPrefix(orders.Key, "fk_"+orders.ID+"_"),
		"oversized":       orders.Key + strings.Repeat("A", 4000),
	} {
		if status, code := sys.shopCall(t, path, key); status != http.StatusUnauthorized || code != "shop_key_invalid" {
			t.Errorf("%s: %d %q, want 401 shop_key_invalid", name, status, code)
		}
	}
	if status, code := sys.shopCall(t, path, redeemOnly.Key); status != http.StatusForbidden || code != "shop_key_scope" {
		t.Errorf("a key without orders: %d %q, want 403 shop_key_scope", status, code)
	}
	// A shop key is not the admin token.
	if status, code := sys.shopCall(t, "/v1/admin/sales/"+saleID+"/orders", orders.Key); status != http.StatusUnauthorized || code != "unauthorized" {
		t.Errorf("a shop key on the admin API: %d %q, want 401 unauthorized", status, code)
	}
	if after := sys.shopKeyState(t); after != before {
		t.Errorf("refusals changed %+v into %+v", before, after)
	}
}

func TestBadShopKeyRequestsAreRefusedAndMakeNoKey(t *testing.T) {
	sys := startSystem(t)
	before := sys.shopKeyState(t)
	for name, body := range map[string]map[string]any{
		"a name too long":     {"name": strings.Repeat("n", 101), "scopes": []string{"orders"}},
		"a control character": {"name": "back\noffice", "scopes": []string{"orders"}},
		"a bidi override":     {"name": "back\u202eoffice", "scopes": []string{"orders"}},
		"no name":             {"scopes": []string{"orders"}},
		"an unknown scope":    {"name": "shop", "scopes": []string{"orders", "admin"}},
		"no scopes":           {"name": "shop", "scopes": []string{}},
		"scopes missing":      {"name": "shop"},
	} {
		var out struct{ Error struct{ Code string } }
		if status := sys.call(t, http.MethodPost, "/v1/admin/shop-keys", sys.AdminToken, body, &out); status != http.StatusUnprocessableEntity || out.Error.Code != "shop_key_request_invalid" {
			t.Errorf("%s: %d %q, want 422 shop_key_request_invalid", name, status, out.Error.Code)
		}
	}
	sys.expect(t, http.MethodPost, "/v1/admin/shop-keys", "not an object", http.StatusBadRequest, "bad_request")
	var out struct{ Error struct{ Code string } }
	if status := sys.call(t, http.MethodPost, "/v1/admin/shop-keys", "", map[string]any{"name": "x", "scopes": []string{"orders"}}, &out); status != http.StatusUnauthorized || out.Error.Code != "unauthorized" {
		t.Errorf("without the admin token: %d %q, want 401 unauthorized", status, out.Error.Code)
	}
	if n := sys.count(t, `SELECT count(*) FROM shop_keys`); n != 0 {
		t.Errorf("%d keys made", n)
	}
	if after := sys.shopKeyState(t); after != before {
		t.Errorf("refusals changed %+v into %+v", before, after)
	}
}

// A redeem refused for its input, with a good key, is not a use of the
// key: no shop_key_used row and no last_used_at; the good redeem after it
// writes exactly one of each.
func TestARefusedRedeemWithAGoodKeyWritesNoAuditRowAndAGoodOneWritesOne(t *testing.T) {
	sys := startSystem(t)
	saleID := shopSale(t, sys, "R-9", 1, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	admitted, _ := admitOne(t, ctx, sys, saleID)
	key := sys.createShopKey(t, "shop backend", "redeem")
	good := redeemBody(saleID, admitted.Token, "order-9")
	uses := func() int {
		return sys.count(t, `SELECT count(*) FROM admin_actions WHERE action = 'shop_key_used' AND detail->>'key_id' = $1`, key.ID)
	}
	before := sys.shopKeyState(t)
	for name, call := range map[string]func() int{
		"no Idempotency-Key": func() int {
			s, _, _ := sys.shopPost(t, redeemPath(admitted.ReservationID), key.Key, "", good)
			return s
		},
		"a body that is not JSON": func() int {
			s, _, _ := sys.shopPost(t, redeemPath(admitted.ReservationID), key.Key, "k9", `{"sale_id":`)
			return s
		},
	} {
		if status := call(); status != http.StatusBadRequest {
			t.Fatalf("%s: %d, want 400", name, status)
		}
		if after := sys.shopKeyState(t); after != before || uses() != 0 {
			t.Errorf("%s: the refused redeem was recorded (%+v -> %+v, %d uses)", name, before, after, uses())
		}
	}
	if status, ans, _ := sys.shopPost(t, redeemPath(admitted.ReservationID), key.Key, "k9", good); status != http.StatusOK || ans.Status != "redeemed" {
		t.Fatalf("the good redeem: %d %+v", status, ans)
	}
	if n := uses(); n != 1 {
		t.Errorf("%d shop_key_used rows after one good redeem, want 1", n)
	}
	if n := sys.count(t, `SELECT count(*) FROM shop_keys WHERE id = $1 AND last_used_at IS NOT NULL`, key.ID); n != 1 {
		t.Error("the good redeem left last_used_at empty")
	}
}
