package app_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/golang-jwt/jwt/v5"

	"github.com/foyerhq/foyer/internal/app"
	"github.com/foyerhq/foyer/internal/identity"
	"github.com/foyerhq/foyer/internal/shopperclient"
	"github.com/foyerhq/foyer/internal/wire"
	"github.com/foyerhq/foyer/server"
)

// testIdentitySecret is the shop's HS256 secret in these tests.
const testIdentitySecret = "test-shop-identity-secret-of-32-bytes-at-least"

func withIdentitySecret() map[string]string {
	return map[string]string{"FOYER_IDENTITY_HS256_SECRET": testIdentitySecret}
}

// customerClaims are what a shop's backend puts in an identity token for
// its signed-in customer.
func customerClaims(customer string) jwt.MapClaims {
	now := time.Now()
	return jwt.MapClaims{"sub": customer, "aud": "foyer", "iat": now.Unix(),
		"exp": now.Add(2 * time.Minute).Unix(), "jti": rand.Text(), "groups": []string{"members"}}
}

func signHS256(t *testing.T, c jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString([]byte(testIdentitySecret))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// customerSession is POST /v1/sessions with an identity token.
type customerSession struct {
	ShopperID string `json:"shopper_id"`
	Token     string `json:"token"`
	Customer  bool   `json:"customer"`
	Error     struct{ Code string }
}

func (s *system) sessionFromIdentity(t *testing.T, token string) (int, customerSession) {
	t.Helper()
	var out customerSession
	status := s.call(t, http.MethodPost, "/v1/sessions", "", map[string]string{"identity": token}, &out)
	return status, out
}

// redisKeys lists every key in the system's Redis but the admitter's lease
// and fence, which its ticks make whatever shoppers do.
func (s *system) redisKeys(t *testing.T) []string {
	t.Helper()
	keys, err := s.Redis.Keys(context.Background(), "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	// Leases of the nodes' background loops (a sale's admitter, the
	// history's sampler) are taken on their own schedule, not by requests.
	keys = slices.DeleteFunc(keys, func(k string) bool {
		return strings.HasSuffix(k, ":admitter") || strings.HasSuffix(k, ":fence") || strings.HasSuffix(k, ":sampler")
	})
	slices.Sort(keys)
	return keys
}

// arriveWithIdentity opens a sale's WebSocket making a session from an
// identity token and joining at once, in one request.
func arriveWithIdentity(t *testing.T, ctx context.Context, sys *system, saleID, token string) *websocket.Conn {
	t.Helper()
	u := "ws" + strings.TrimPrefix(sys.URL, "http") + "/v1/sales/" + saleID + "/ws?session=new&join=1&identity=" + url.QueryEscape(token)
	ws, _, err := websocket.Dial(ctx, u, &websocket.DialOptions{Subprotocols: []string{wire.Subprotocol}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.CloseNow() })
	return ws
}

// readRaw reads a raw socket until a message of type typ, or its close.
func readRaw(t *testing.T, ctx context.Context, ws *websocket.Conn, typ string) (shopperclient.Message, error) {
	t.Helper()
	for {
		_, data, err := ws.Read(ctx)
		if err != nil {
			return shopperclient.Message{}, err
		}
		var m shopperclient.Message
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatal(err)
		}
		if m.Type == typ {
			return m, nil
		}
	}
}

func TestACustomerWithTwoBrowsersAndATabEachHoldsOnePlace(t *testing.T) {
	sys := startNodes(t, 1, withIdentitySecret())
	saleID := sys.createSale(t, map[string]any{"sku": "ID-1", "name": "Known customers", "stock": 5,
		"outflow_per_second": stalled, "identity": "optional"})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client := shopperclient.New(sys.URL)

	// An anonymous shopper is first: an optional sale takes both.
	anon, _ := arrive(t, ctx, client, saleID)
	if m := expectMessage(t, ctx, anon, "position"); m.Position != 1 {
		t.Fatalf("the anonymous shopper is at %d, want 1", m.Position)
	}

	// Browser A makes its session over HTTP and joins from two tabs.
	status, a := sys.sessionFromIdentity(t, signHS256(t, customerClaims("customer-42")))
	if status != http.StatusCreated || !a.Customer || !identity.IsCustomer(a.ShopperID) {
		t.Fatalf("a session from an identity token: %d %+v", status, a)
	}
	sessA := shopperclient.Session{ShopperID: a.ShopperID, Token: a.Token}
	for tab := range 2 {
		conn, err := client.Arrive(ctx, saleID, &sessA)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.CloseNow() })
		if m := expectMessage(t, ctx, conn, "position"); m.Position != 2 {
			t.Fatalf("browser A, tab %d: position %d, want 2", tab+1, m.Position)
		}
	}

	// Browser B, on another device, arrives in one request with its own
	// token for the same customer, then opens a second tab with the
	// session it was given.
	b := arriveWithIdentity(t, ctx, sys, saleID, signHS256(t, customerClaims("customer-42")))
	welcome, err := readRaw(t, ctx, b, "welcome")
	if err != nil {
		t.Fatal(err)
	}
	sessB, ok := welcome.MadeSession()
	if !ok || sessB.ShopperID != a.ShopperID {
		t.Fatalf("browser B is shopper %q, want the customer's %q", welcome.You.ShopperID, a.ShopperID)
	}
	if m, err := readRaw(t, ctx, b, "position"); err != nil || m.Position != 2 {
		t.Fatalf("browser B: position %d (%v), want 2", m.Position, err)
	}
	tabB, err := client.Arrive(ctx, saleID, &sessB)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tabB.CloseNow() })
	if m := expectMessage(t, ctx, tabB, "position"); m.Position != 2 {
		t.Fatalf("browser B, tab 2: position %d, want 2", m.Position)
	}
	if n := sys.queueLength(t, saleID); n != 2 {
		t.Fatalf("%d places in the queue, want 2: the anonymous shopper's and the customer's", n)
	}

	// Browser C offers its token as a subprotocol, out of the URL.
	u := "ws" + strings.TrimPrefix(sys.URL, "http") + "/v1/sales/" + saleID + "/ws?session=new&join=1"
	c, _, err := websocket.Dial(ctx, u, &websocket.DialOptions{Subprotocols: []string{wire.Subprotocol,
		server.IdentityProtocolPrefix + signHS256(t, customerClaims("customer-42"))}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.CloseNow() })
	if c.Subprotocol() != wire.Subprotocol {
		t.Fatalf("the server selected %q, want %s", c.Subprotocol(), wire.Subprotocol)
	}
	if welcome, err := readRaw(t, ctx, c, "welcome"); err != nil || welcome.You.ShopperID != a.ShopperID {
		t.Fatalf("browser C is shopper %q (%v), want the customer's %q", welcome.You.ShopperID, err, a.ShopperID)
	}
	if m, err := readRaw(t, ctx, c, "position"); err != nil || m.Position != 2 {
		t.Fatalf("browser C: position %d (%v), want 2", m.Position, err)
	}
	if n := sys.queueLength(t, saleID); n != 2 {
		t.Fatalf("%d places in the queue after browser C, want 2", n)
	}

	// Another customer is another shopper.
	if _, c := sys.sessionFromIdentity(t, signHS256(t, customerClaims("customer-43"))); c.ShopperID == a.ShopperID || !identity.IsCustomer(c.ShopperID) {
		t.Fatalf("another customer got shopper %q", c.ShopperID)
	}
}

func TestABadOrReplayedIdentityTokenGetsIdentityInvalidAndMakesNoSession(t *testing.T) {
	sys := startNodes(t, 1, withIdentitySecret())
	saleID := sys.createSale(t, map[string]any{"sku": "ID-2", "name": "Forged", "stock": 5,
		"outflow_per_second": stalled, "identity": "optional"})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// A sound token's first use leaves one key in Redis besides the sale's:
	// its jti, spent.
	claims := customerClaims("customer-42")
	token := signHS256(t, claims)
	before := sys.redisKeys(t)
	if status, s := sys.sessionFromIdentity(t, token); status != http.StatusCreated || !s.Customer {
		t.Fatalf("first use: %d %+v", status, s)
	}
	spent := sys.redisKeys(t)
	if added := slices.DeleteFunc(slices.Clone(spent), func(k string) bool { return slices.Contains(before, k) }); !slices.Equal(added, []string{identity.JTIKey(claims["jti"].(string))}) {
		t.Fatalf("a session from an identity token added %v to Redis, want only its jti key", added)
	}

	with := func(change func(jwt.MapClaims)) string {
		c := customerClaims("customer-42")
		change(c)
		return signHS256(t, c)
	}
	none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, customerClaims("customer-42")).SignedString(jwt.UnsafeAllowNoneSignatureType)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	rs256, _ := jwt.NewWithClaims(jwt.SigningMethodRS256, customerClaims("customer-42")).SignedString(rsaKey)
	forged, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, customerClaims("customer-42")).SignedString([]byte("another shop's secret of 32 bytes or more"))
	bad := []struct{ name, token string }{
		{"a replayed token", token},
		{"an expired token", with(func(c jwt.MapClaims) {
			c["iat"], c["exp"] = time.Now().Add(-4*time.Minute).Unix(), time.Now().Add(-2*time.Minute).Unix()
		})},
		{"a token signed with another secret", forged},
		{"a token with alg none", none},
		{"a token with alg RS256", rs256},
		{"a token whose exp is 10 minutes away", with(func(c jwt.MapClaims) { c["exp"] = time.Now().Add(10 * time.Minute).Unix() })},
		{"a token without sub", with(func(c jwt.MapClaims) { delete(c, "sub") })},
		{"a token for another audience", with(func(c jwt.MapClaims) { c["aud"] = "another-service" })},
		{"a token without jti", with(func(c jwt.MapClaims) { delete(c, "jti") })},
	}
	snap := sys.snapshot(t, saleID)
	for _, tc := range bad {
		if status, s := sys.sessionFromIdentity(t, tc.token); status != http.StatusUnauthorized || s.Error.Code != "identity_invalid" || s.Token != "" {
			t.Errorf("%s over HTTP: %d %q, want 401 identity_invalid", tc.name, status, s.Error.Code)
		}
	}
	// The same at the socket: an error identity_invalid, then the close
	// of an invalid session, and no place.
	for _, tc := range bad[:3] {
		ws := arriveWithIdentity(t, ctx, sys, saleID, tc.token)
		m, err := readRaw(t, ctx, ws, "error")
		if err != nil || m.Code != "identity_invalid" {
			t.Errorf("%s at the socket: %+v (%v), want error identity_invalid", tc.name, m, err)
			continue
		}
		if _, err := readRaw(t, ctx, ws, "never"); websocket.CloseStatus(err) != wire.CloseSessionInvalid {
			t.Errorf("%s at the socket: closed with %v, want %d", tc.name, err, wire.CloseSessionInvalid)
		}
	}
	sys.assertUnchanged(t, saleID, snap, "bad identity tokens")
	if after := sys.redisKeys(t); !slices.Equal(after, spent) {
		t.Errorf("bad identity tokens changed Redis's keys:\n%v\n->\n%v", spent, after)
	}
}

func TestARequiredIdentitySaleRefusesAnonymousJoinsAndChangesNothing(t *testing.T) {
	sys := startNodes(t, 1, withIdentitySecret())
	saleID := sys.createSale(t, map[string]any{"sku": "ID-3", "name": "Members only", "stock": 5,
		"outflow_per_second": stalled, "identity": "required"})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client := shopperclient.New(sys.URL)
	snap := sys.snapshot(t, saleID)

	// Arriving anonymously in one request (the gateway's fast path) ...
	conn, err := client.Arrive(ctx, saleID, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	welcome := expectMessage(t, ctx, conn, "welcome")
	if m := expectMessage(t, ctx, conn, "error"); m.Code != "identity_required" {
		t.Fatalf("an anonymous arrival: %s, want identity_required", m.Code)
	}
	// ... and joining by message with an anonymous session.
	anon, _ := welcome.MadeSession()
	again, err := client.Connect(ctx, saleID, anon)
	if err != nil {
		t.Fatal(err)
	}
	defer again.CloseNow()
	expectMessage(t, ctx, again, "welcome")
	if err := again.Join(ctx); err != nil {
		t.Fatal(err)
	}
	if m := expectMessage(t, ctx, again, "error"); m.Code != "identity_required" {
		t.Fatalf("an anonymous join message: %s, want identity_required", m.Code)
	}
	sys.assertUnchanged(t, saleID, snap, "anonymous joins of a required sale")

	// A customer joins.
	ws := arriveWithIdentity(t, ctx, sys, saleID, signHS256(t, customerClaims("customer-42")))
	if m, err := readRaw(t, ctx, ws, "position"); err != nil || m.Position != 1 {
		t.Fatalf("a customer in a required sale: position %d (%v), want 1", m.Position, err)
	}
}

func TestAnEdDSAIdentityTokenIsVerifiedWithTheConfiguredPublicKey(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sys := startNodes(t, 1, map[string]string{"FOYER_IDENTITY_ED25519_PUBLIC_KEY": base64.StdEncoding.EncodeToString(pub)})
	token, err := jwt.NewWithClaims(jwt.SigningMethodEdDSA, customerClaims("customer-7")).SignedString(priv)
	if err != nil {
		t.Fatal(err)
	}
	if status, s := sys.sessionFromIdentity(t, token); status != http.StatusCreated || !s.Customer {
		t.Fatalf("an EdDSA token: %d %+v", status, s)
	}
	// Only the configured key and algorithm: no HS256 secret is set here.
	if status, s := sys.sessionFromIdentity(t, signHS256(t, customerClaims("customer-7"))); status != http.StatusUnauthorized || s.Error.Code != "identity_invalid" {
		t.Fatalf("an HS256 token with no secret configured: %d %q", status, s.Error.Code)
	}
	_, otherPriv, _ := ed25519.GenerateKey(rand.Reader)
	foreign, _ := jwt.NewWithClaims(jwt.SigningMethodEdDSA, customerClaims("customer-7")).SignedString(otherPriv)
	if status, s := sys.sessionFromIdentity(t, foreign); status != http.StatusUnauthorized || s.Error.Code != "identity_invalid" {
		t.Fatalf("an EdDSA token of another key: %d %q", status, s.Error.Code)
	}
}

func TestIdentityKeysThatAreWeakOrMalformedAreRefusedAtStart(t *testing.T) {
	tests := []struct {
		name    string
		set     map[string]string
		wantErr error
		want    string
	}{
		{"a short HS256 secret", map[string]string{"FOYER_IDENTITY_HS256_SECRET": "shop-secret"}, app.ErrWeakSecret,
			"FOYER_IDENTITY_HS256_SECRET is 11 bytes long; it must be at least 32"},
		{"a public key of 16 bytes", map[string]string{"FOYER_IDENTITY_ED25519_PUBLIC_KEY": base64.StdEncoding.EncodeToString(make([]byte, 16))}, nil,
			"FOYER_IDENTITY_ED25519_PUBLIC_KEY must be the base64 of a 32-byte Ed25519 public key"},
		{"a public key that is not base64", map[string]string{"FOYER_IDENTITY_ED25519_PUBLIC_KEY": "not base64!"}, nil,
			"FOYER_IDENTITY_ED25519_PUBLIC_KEY must be the base64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := gatewayStartError(t, tt.set)
			if err == nil || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("gateway: %v; want an error saying %q", err, tt.want)
			}
		})
	}
}

func TestASessionRequestThatIsNotJSONOrAnIdentityWithoutANewSessionIsABadRequest(t *testing.T) {
	sys := startNodes(t, 1, withIdentitySecret())
	saleID := sys.createSale(t, map[string]any{"sku": "ID-4", "name": "Bad bodies", "stock": 5, "outflow_per_second": stalled})
	resp, err := http.Post(sys.URL+"/v1/sessions", "application/json", strings.NewReader(`{"identity": 42`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a session body that is not JSON: %d, want 400", resp.StatusCode)
	}
	sess, err := shopperclient.New(sys.URL).NewSession(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	u := "ws" + strings.TrimPrefix(sys.URL, "http") + "/v1/sales/" + saleID + "/ws?session=" + sess.Token + "&identity=" + signHS256(t, customerClaims("customer-42"))
	_, resp, err = websocket.Dial(t.Context(), u, nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusBadRequest {
		t.Errorf("identity with a session of its own: %v, want 400 before the upgrade", err)
	}
}

func TestACustomerIsOneShopperOnEveryNodeAndATokenSpentOnOneIsRefusedOnAnother(t *testing.T) {
	sys := startNodes(t, 2, withIdentitySecret())
	post := func(node, token string) (int, customerSession) {
		t.Helper()
		body, _ := json.Marshal(map[string]string{"identity": token})
		resp, err := http.Post(node+"/v1/sessions", "application/json", strings.NewReader(string(body)))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out customerSession
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	token := signHS256(t, customerClaims("customer-42"))
	status, first := post(sys.URLs[0], token)
	if status != http.StatusCreated {
		t.Fatalf("node 1: %d", status)
	}
	if status, s := post(sys.URLs[1], token); status != http.StatusUnauthorized || s.Error.Code != "identity_invalid" {
		t.Fatalf("the same token on node 2: %d %q, want 401 identity_invalid", status, s.Error.Code)
	}
	if status, second := post(sys.URLs[1], signHS256(t, customerClaims("customer-42"))); status != http.StatusCreated || second.ShopperID != first.ShopperID {
		t.Fatalf("node 2 made shopper %q (%d), node 1 %q", second.ShopperID, status, first.ShopperID)
	}
}
