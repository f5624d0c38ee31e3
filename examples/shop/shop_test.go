package shop_test

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/foyerhq/foyer/examples/shop"
)

const (
	testShopKey        = "fk_k1_secretsecretsecret"
	testIdentitySecret = "identity-secret-of-at-least-32-bytes!!"
	testWebhookSecret  = "whsec_webhook_secret"
	testSale           = "s_drop"
)

// fakeFoyer serves a JWKS and records the redeem and release calls, as the
// brief's contract describes them; it answers with what the test sets.
type fakeFoyer struct {
	*httptest.Server
	key ed25519.PrivateKey
	kid string

	mu       sync.Mutex
	calls    []call
	status   int    // the answer to redeem and release; 200 when zero
	errCode  string // with a status other than 200
	replayed bool
	// beforeRedeemed, when set, runs before a redeem is answered: what
	// Foyer's worker may do meanwhile, such as delivering order.paid.
	beforeRedeemed func(body map[string]string)
}

type call struct {
	Path, Auth, IdempotencyKey, ContentType string
	Body                                    map[string]string
}

func newFakeFoyer(t *testing.T) *fakeFoyer {
	t.Helper()
	_, priv, _ := ed25519.GenerateKey(nil)
	f := &fakeFoyer{key: priv, kid: "kid-1"}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/jwks.json", func(w http.ResponseWriter, r *http.Request) {
		pub := priv.Public().(ed25519.PublicKey)
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": []map[string]string{{"kty": "OKP", "crv": "Ed25519",
			"x": base64.RawURLEncoding.EncodeToString(pub), "kid": f.kid, "use": "sig", "alg": "EdDSA"}}})
	})
	mux.HandleFunc("POST /v1/reservations/{id}/{action}", func(w http.ResponseWriter, r *http.Request) {
		c := call{Path: r.URL.Path, Auth: r.Header.Get("Authorization"), IdempotencyKey: r.Header.Get("Idempotency-Key"),
			ContentType: r.Header.Get("Content-Type")}
		_ = json.NewDecoder(r.Body).Decode(&c.Body)
		f.mu.Lock()
		f.calls = append(f.calls, c)
		status, code, replayed, before := f.status, f.errCode, f.replayed, f.beforeRedeemed
		f.mu.Unlock()
		if status != 0 && status != http.StatusOK {
			w.WriteHeader(status)
			_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": code, "message": "no"}})
			return
		}
		if r.PathValue("action") == "release" {
			_ = json.NewEncoder(w).Encode(map[string]any{"reservation_id": r.PathValue("id"), "released": true})
			return
		}
		if before != nil {
			before(c.Body)
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"reservation_id": r.PathValue("id"), "sale_id": c.Body["sale_id"],
			"shopper_id": "c_x", "order_ref": c.Body["order_ref"], "quantity": 1, "status": "redeemed", "replayed": replayed})
	})
	f.Server = httptest.NewServer(mux)
	t.Cleanup(f.Close)
	return f
}

func (f *fakeFoyer) Calls() []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]call(nil), f.calls...)
}

// token signs a reservation token as Foyer does (checkout/tokens.go).
func (f *fakeFoyer) token(t *testing.T, sale, jti string, exp time.Time) string {
	t.Helper()
	return f.customerToken(t, sale, jti, "", exp)
}

// customerToken is token for a customer's session: Foyer names the shop's
// customer (cid) when it is not "", and the shopper is a customer's (c_);
// with "" it is an anonymous shopper's (v_).
func (f *fakeFoyer) customerToken(t *testing.T, sale, jti, customer string, exp time.Time) string {
	t.Helper()
	claims := jwt.MapClaims{"iss": "foyer", "aud": sale, "sub": "v_shopper",
		"jti": jti, "iat": time.Now().Unix(), "exp": exp.Unix()}
	if customer != "" {
		claims["sub"], claims["cid"] = "c_shopper", customer
	}
	return f.sign(t, claims)
}

// sign signs claims as Foyer does, with the key its JWKS names.
func (f *fakeFoyer) sign(t *testing.T, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims)
	tok.Header["kid"] = f.kid
	s, err := tok.SignedString(f.key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// startShop runs the shop against f, and returns it and a browser with a cookie jar.
func startShop(t *testing.T, f *fakeFoyer, options ...func(*shop.Config)) (*shop.Shop, *httptest.Server, *http.Client) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	cfg := shop.Config{FoyerURL: f.URL, ShopKey: testShopKey, IdentitySecret: testIdentitySecret, WebhookSecret: testWebhookSecret,
		SaleIDs: []string{testSale}}
	for _, o := range options {
		o(&cfg)
	}
	s, err := shop.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	jar, _ := cookiejar.New(nil)
	return s, srv, &http.Client{Jar: jar}
}

func get(t *testing.T, c *http.Client, u string) (int, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func postForm(t *testing.T, c *http.Client, u string, form url.Values) (int, string) {
	t.Helper()
	resp, err := c.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// csrfInPage finds the CSRF token in a page's forms.
var csrfInPage = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// signIn signs customerID in with browser and returns the session's CSRF
// token, read from the home page's sign-out form as a browser would.
func signIn(t *testing.T, browser *http.Client, srv *httptest.Server, customerID string) string {
	t.Helper()
	if status, _ := postForm(t, browser, srv.URL+"/login", url.Values{"customer_id": {customerID}}); status != http.StatusOK {
		t.Fatalf("sign %s in: %d", customerID, status)
	}
	_, home := get(t, browser, srv.URL+"/")
	m := csrfInPage.FindStringSubmatch(home)
	if m == nil {
		t.Fatalf("no CSRF token on the home page of a signed-in customer:\n%s", home)
	}
	return m[1]
}

// checkoutForm is the form the checkout page posts: the token, the sale and the CSRF token.
func checkoutForm(token, sale, csrf string) url.Values {
	return url.Values{"foyer_token": {token}, "foyer_sale": {sale}, "csrf": {csrf}}
}

func TestTheCheckoutVerifiesTheTokenThenRedeemsWithTheShopKeyAndOneIdempotencyKey(t *testing.T) {
	f := newFakeFoyer(t)
	s, srv, browser := startShop(t, f)
	signIn(t, browser, srv, "cust-42")
	token := f.token(t, testSale, "r_1", time.Now().Add(5*time.Minute))
	status, body := get(t, browser, srv.URL+"/checkout?"+url.Values{"foyer_token": {token}, "foyer_sale": {testSale}}.Encode())
	if status != http.StatusOK || !strings.Contains(body, "/checkout/pay") {
		t.Fatalf("checkout page: %d %s", status, body)
	}
	if len(f.Calls()) != 0 {
		t.Fatalf("showing the checkout called Foyer: %+v", f.Calls())
	}
	m := csrfInPage.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("the checkout's forms carry no CSRF token:\n%s", body)
	}
	form := checkoutForm(token, testSale, m[1])
	for range 2 { // the second is a double click: the same request again
		if status, body := postForm(t, browser, srv.URL+"/checkout/pay", form); status != http.StatusOK || !strings.Contains(body, shop.OrderRef("r_1")) {
			t.Fatalf("pay: %d %s", status, body)
		}
	}
	calls := f.Calls()
	if len(calls) != 2 {
		t.Fatalf("%d calls to Foyer, want a redeem per pay", len(calls))
	}
	for _, c := range calls {
		want := call{Path: "/v1/reservations/r_1/redeem", Auth: "Bearer " + testShopKey, IdempotencyKey: "redeem-r_1",
			ContentType: "application/json"}
		if c.Path != want.Path || c.Auth != want.Auth || c.IdempotencyKey != want.IdempotencyKey || c.ContentType != want.ContentType {
			t.Errorf("redeem %+v, want %+v", c, want)
		}
		if len(c.Body) != 3 || c.Body["sale_id"] != testSale || c.Body["token"] != token || c.Body["order_ref"] != shop.OrderRef("r_1") {
			t.Errorf("redeem body %v, want sale_id, token and order_ref only", c.Body)
		}
	}
	orders := s.Orders()
	if len(orders) != 1 || orders[0].Status != "paid" || orders[0].CustomerID != "cust-42" || orders[0].SaleID != testSale {
		t.Errorf("orders %+v, want one paid for cust-42", orders)
	}
}

func TestTheCheckoutRefusesABadTokenAndCallsFoyerForNothing(t *testing.T) {
	f := newFakeFoyer(t)
	_, srv, browser := startShop(t, f)
	csrf := signIn(t, browser, srv, "cust-42")
	good := f.token(t, testSale, "r_1", time.Now().Add(5*time.Minute))
	parts := strings.Split(good, ".")
	other := newFakeFoyer(t) // another key, with the same kid
	cases := map[string]string{
		"expired":           f.token(t, testSale, "r_1", time.Now().Add(-time.Minute)),
		"for another sale":  f.token(t, "s_other", "r_1", time.Now().Add(5*time.Minute)),
		"tampered":          parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"iss":"foyer","aud":"s_drop","sub":"c_me","jti":"r_9","exp":9999999999}`)) + "." + parts[2],
		"signed by another": other.token(t, testSale, "r_1", time.Now().Add(5*time.Minute)),
		"garbage":           "not-a-token",
	}
	for name, tok := range cases {
		form := checkoutForm(tok, testSale, csrf)
		if status, _ := get(t, browser, srv.URL+"/checkout?"+form.Encode()); status != http.StatusForbidden {
			t.Errorf("checkout with a token %s: %d, want 403", name, status)
		}
		if status, _ := postForm(t, browser, srv.URL+"/checkout/pay", form); status != http.StatusForbidden {
			t.Errorf("pay with a token %s: %d, want 403", name, status)
		}
		if status, _ := postForm(t, browser, srv.URL+"/checkout/release", form); status != http.StatusForbidden {
			t.Errorf("release with a token %s: %d, want 403", name, status)
		}
	}
	if calls := f.Calls(); len(calls) != 0 {
		t.Errorf("bad tokens called Foyer: %+v", calls)
	}
}

func TestReleaseGivesTheUnitBackWithTheShopKey(t *testing.T) {
	f := newFakeFoyer(t)
	_, srv, browser := startShop(t, f)
	csrf := signIn(t, browser, srv, "cust-42")
	token := f.token(t, testSale, "r_2", time.Now().Add(5*time.Minute))
	if status, body := postForm(t, browser, srv.URL+"/checkout/release", checkoutForm(token, testSale, csrf)); status != http.StatusOK {
		t.Fatalf("release: %d %s", status, body)
	}
	calls := f.Calls()
	if len(calls) != 1 || calls[0].Path != "/v1/reservations/r_2/release" || calls[0].Auth != "Bearer "+testShopKey ||
		len(calls[0].Body) != 2 || calls[0].Body["sale_id"] != testSale || calls[0].Body["token"] != token {
		t.Errorf("release calls %+v", calls)
	}
}

func TestARefusalFromFoyerIsShownToTheCustomer(t *testing.T) {
	f := newFakeFoyer(t)
	f.status, f.errCode = http.StatusConflict, "token_reused"
	s, srv, browser := startShop(t, f)
	csrf := signIn(t, browser, srv, "cust-42")
	token := f.token(t, testSale, "r_3", time.Now().Add(5*time.Minute))
	status, body := postForm(t, browser, srv.URL+"/checkout/pay", checkoutForm(token, testSale, csrf))
	if status != http.StatusConflict || !strings.Contains(body, "already used") {
		t.Errorf("pay of a used reservation: %d %s", status, body)
	}
	if len(s.Orders()) != 0 {
		t.Errorf("a refused redeem made an order: %+v", s.Orders())
	}
}

// deliver posts a webhook signed with secret at t, as Foyer does.
func deliver(t *testing.T, srv *httptest.Server, secret string, at time.Time, body string) int {
	t.Helper()
	ts := strconv.FormatInt(at.Unix(), 10)
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/webhooks/foyer", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Foyer-Signature", "t="+ts+",v1="+hex.EncodeToString(shop.Sign(secret, ts, []byte(body))))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestAWebhookIsVerifiedAndRecordedOnceHoweverOftenItIsDelivered(t *testing.T) {
	f := newFakeFoyer(t)
	var mu sync.Mutex
	var told []string
	s, srv, _ := startShop(t, f, func(c *shop.Config) {
		c.OnEvent = func(ev shop.Event) { mu.Lock(); told = append(told, ev.ID); mu.Unlock() }
	})
	paid := `{"id":"evt_1","type":"order.paid","created_at":"2026-01-01T00:00:00Z","sale_id":"s_drop","data":{"reservation_id":"r_1","status":"paid"}}`
	for range 3 {
		if status := deliver(t, srv, testWebhookSecret, time.Now(), paid); status != http.StatusOK {
			t.Fatalf("a signed delivery: %d", status)
		}
	}
	forged := `{"id":"evt_2","type":"order.paid","sale_id":"s_drop","data":{}}`
	if status := deliver(t, srv, "whsec_guessed", time.Now(), forged); status != http.StatusBadRequest {
		t.Errorf("a delivery signed with another secret: %d, want 400", status)
	}
	if status := deliver(t, srv, testWebhookSecret, time.Now().Add(-10*time.Minute), forged); status != http.StatusBadRequest {
		t.Errorf("a delivery signed 10 minutes ago: %d, want 400", status)
	}
	events := s.Events()
	if len(events) != 1 || events[0].ID != "evt_1" || events[0].Type != "order.paid" || events[0].SaleID != testSale {
		t.Errorf("events %+v, want evt_1 once", events)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(told) != 1 || told[0] != "evt_1" {
		t.Errorf("OnEvent was told %v, want evt_1 once", told)
	}
}

func TestASignedInCustomerGetsAShortLivedIdentityTokenForFoyer(t *testing.T) {
	f := newFakeFoyer(t)
	_, srv, browser := startShop(t, f)
	if status, _ := get(t, browser, srv.URL+"/identity-token"); status != http.StatusUnauthorized {
		t.Errorf("identity token before signing in: %d, want 401", status)
	}
	postForm(t, browser, srv.URL+"/login", url.Values{"customer_id": {"cust-7"}, "groups": {"members, vip"}})
	tokens := map[string]bool{}
	for range 2 {
		status, body := get(t, browser, srv.URL+"/identity-token")
		var out struct{ Token string }
		if err := json.Unmarshal([]byte(body), &out); status != http.StatusOK || err != nil {
			t.Fatalf("identity token: %d %s", status, body)
		}
		var c struct {
			jwt.RegisteredClaims
			Groups []string `json:"groups"`
		}
		_, err := jwt.ParseWithClaims(out.Token, &c, func(*jwt.Token) (any, error) { return []byte(testIdentitySecret), nil },
			jwt.WithValidMethods([]string{"HS256"}), jwt.WithAudience("foyer"), jwt.WithExpirationRequired(), jwt.WithIssuedAt())
		if err != nil {
			t.Fatalf("the identity token does not verify as Foyer checks it: %v", err)
		}
		if c.Subject != "cust-7" || c.ID == "" || c.ExpiresAt.Sub(c.IssuedAt.Time) > 5*time.Minute ||
			strings.Join(c.Groups, ",") != "members,vip" {
			t.Errorf("claims %+v", c)
		}
		tokens[c.ID] = true
	}
	if len(tokens) != 2 {
		t.Error("two identity tokens share a jti: Foyer takes each once")
	}
	status, body := get(t, browser, srv.URL+"/drop?sale=s_drop")
	if wantWS := `"ws` + strings.TrimPrefix(f.URL, "http") + `"`; status != http.StatusOK || !strings.Contains(body, wantWS) ||
		!strings.Contains(body, `"s_drop"`) || !strings.Contains(body, `"identity." + token`) {
		t.Errorf("the drop page does not join %s with the identity token: %d %s", wantWS, status, body)
	}
}

func TestTheShopRefusesToStartWithoutItsSettings(t *testing.T) {
	env := map[string]string{"FOYER_URL": "http://localhost:8080", "SHOP_KEY": testShopKey,
		"SHOP_IDENTITY_SECRET": testIdentitySecret, "SHOP_WEBHOOK_SECRET": testWebhookSecret,
		"SHOP_SALE_IDS": " s_drop, s_encore ,"}
	cfg, err := shop.ConfigFromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("a full configuration is refused: %v", err)
	}
	if strings.Join(cfg.SaleIDs, "|") != "s_drop|s_encore" {
		t.Errorf("SHOP_SALE_IDS read as %q, want s_drop and s_encore", cfg.SaleIDs)
	}
	for _, name := range []string{"FOYER_URL", "SHOP_KEY", "SHOP_IDENTITY_SECRET", "SHOP_WEBHOOK_SECRET", "SHOP_SALE_IDS"} {
		without := func(k string) string {
			if k == name {
				return ""
			}
			return env[k]
		}
		if _, err := shop.ConfigFromEnv(without); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("without %s: %v", name, err)
		}
	}
	short := func(k string) string {
		if k == "SHOP_IDENTITY_SECRET" {
			return "short"
		}
		return env[k]
	}
	if _, err := shop.ConfigFromEnv(short); err == nil {
		t.Error("a short identity secret is taken")
	}
	onlyCommas := func(k string) string {
		if k == "SHOP_SALE_IDS" {
			return " , ,"
		}
		return env[k]
	}
	if _, err := shop.ConfigFromEnv(onlyCommas); err == nil || !strings.Contains(err.Error(), "SHOP_SALE_IDS") {
		t.Errorf("SHOP_SALE_IDS of commas only: %v", err)
	}
	cfg.SaleIDs = nil
	if _, err := shop.New(context.Background(), cfg); err == nil {
		t.Error("a shop with no sale ids was made: it would check no token's audience")
	}
}

// TestAnOrderPaidThatArrivesBeforeTheRedeemsAnswerIsNotedOnTheOrder: Foyer's
// worker writes the order and delivers order.paid as soon as the redeem is
// taken, which can be before the shop reads the redeem's answer.
func TestAnOrderPaidThatArrivesBeforeTheRedeemsAnswerIsNotedOnTheOrder(t *testing.T) {
	f := newFakeFoyer(t)
	s, srv, browser := startShop(t, f)
	f.mu.Lock()
	f.beforeRedeemed = func(body map[string]string) {
		paid := `{"id":"evt_early","type":"order.paid","created_at":"2026-01-01T00:00:00Z","sale_id":"s_drop",` +
			`"data":{"reservation_id":"r_4","status":"paid","customer_id":"cust-42","shop_order_ref":"` + body["order_ref"] + `"}}`
		if status := deliver(t, srv, testWebhookSecret, time.Now(), paid); status != http.StatusOK {
			t.Errorf("order.paid before the redeem's answer: %d", status)
		}
	}
	f.mu.Unlock()
	csrf := signIn(t, browser, srv, "cust-42")
	token := f.token(t, testSale, "r_4", time.Now().Add(5*time.Minute))
	if status, body := postForm(t, browser, srv.URL+"/checkout/pay", checkoutForm(token, testSale, csrf)); status != http.StatusOK {
		t.Fatalf("pay: %d %s", status, body)
	}
	orders := s.Orders()
	if len(orders) != 1 || orders[0].Status != "paid" || orders[0].CustomerID != "cust-42" ||
		strings.Join(orders[0].Events, ",") != "order.paid" {
		t.Errorf("orders %+v, want one paid for cust-42 with its order.paid", orders)
	}
}
