package app_test

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/foyerhq/foyer/checkout"
	"github.com/foyerhq/foyer/internal/keyring"
	"github.com/foyerhq/foyer/waitingroom"
)

// idempotencyKeys counts the stored answers to idempotent checkouts.
func (s *system) idempotencyKeys(t *testing.T) int {
	t.Helper()
	keys, err := s.Redis.Keys(context.Background(), "sale:*:idem:*").Result()
	if err != nil {
		t.Fatal(err)
	}
	return len(keys)
}

// A checkout whose token does not verify claims no Idempotency-Key: a junk
// request with a fresh long key per try used to leave an answer in Redis
// for a day, for real sales and for sales that do not exist.
func TestACheckoutWithABadTokenStoresNoIdempotentAnswer(t *testing.T) {
	sys := startSystem(t)
	saleID := sys.createSale(t, map[string]any{"sku": "H-1", "name": "Junk", "stock": 3, "outflow_per_second": 100})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admitted, _ := admitOne(t, ctx, sys, saleID)
	claims, err := checkout.NewTokens(mustRing(t, sys.Seed)).Verify(saleID, admitted.Token)
	if err != nil {
		t.Fatal(err)
	}
	res := waitingroom.Reservation{ID: admitted.ReservationID, Shopper: claims.Subject,
		AdmittedAtMs: time.Now().UnixMilli(), ExpiresAtMs: time.Now().Add(time.Hour).UnixMilli()}
	forged, _ := checkout.NewTokens(mustRing(t, keyring.NewSeed())).Issue(saleID, res)

	before := sys.idempotencyKeys(t)
	for i, token := range []string{"junk", "not.a.token", forged} {
		key := fmt.Sprintf("%03d", i) + strings.Repeat("k", 252) // 255 bytes, the most allowed
		status, body, _ := sys.postCheckout(t, saleID, key, map[string]any{"token": token})
		if status != http.StatusUnauthorized || !strings.Contains(body, `"token_invalid"`) {
			t.Errorf("token %d: %d %s, want 401 token_invalid", i, status, body)
		}
	}
	if after := sys.idempotencyKeys(t); after != before {
		t.Errorf("bad tokens left %d idempotent answers in Redis, want none", after-before)
	}
}

// A checkout for a sale that does not exist is told so, whatever its token,
// and leaves nothing behind.
func TestACheckoutForASaleThatDoesNotExistIsSaleNotFoundAndStoresNothing(t *testing.T) {
	sys := startSystem(t)
	saleID := sys.createSale(t, map[string]any{"sku": "H-2", "name": "Real", "stock": 3, "outflow_per_second": 100})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admitted, _ := admitOne(t, ctx, sys, saleID)
	for _, token := range []string{"junk", admitted.Token} {
		status, body, _ := sys.postCheckout(t, "s_nosuchsale", "key-1", map[string]any{"token": token})
		if status != http.StatusNotFound || !strings.Contains(body, `"sale_not_found"`) {
			t.Errorf("checkout of no sale: %d %s, want 404 sale_not_found", status, body)
		}
	}
	if keys, _ := sys.Redis.Keys(ctx, "sale:{s_nosuchsale}*").Result(); len(keys) != 0 {
		t.Errorf("a checkout of no sale left keys in Redis: %v", keys)
	}
	if n := sys.idempotencyKeys(t); n != 0 {
		t.Errorf("%d idempotent answers stored, want none", n)
	}
}

// Idempotency keys are each shopper's own: two shoppers whose clients pick
// the same key both check out (one used to get 422 idempotency_key_reused).
func TestTwoShoppersUsingTheSameIdempotencyKeyBothCheckOut(t *testing.T) {
	sys := startSystem(t)
	saleID := sys.createSale(t, map[string]any{"sku": "H-3", "name": "Shared key", "stock": 3, "outflow_per_second": 100})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	first, _ := admitOne(t, ctx, sys, saleID)
	second, _ := admitOne(t, ctx, sys, saleID)
	for i, admitted := range []string{first.Token, second.Token} {
		status, body, replayed := sys.postCheckout(t, saleID, "order-1", map[string]any{"token": admitted})
		if status != http.StatusOK || replayed || !strings.Contains(body, `"confirmed"`) {
			t.Errorf("shopper %d: %d %s (replayed %v), want 200 confirmed", i+1, status, body, replayed)
		}
	}
}

// A shop verifies a reservation token as the protocol describes it, with
// the keys at /.well-known/jwks.json and a strict verifier: EdDSA only, the
// issuer, an expiry, and the sale as the audience, which the payload carries
// as one JSON string (it used to be an array of one).
func TestAReservationTokenPassesAShopsStrictVerifierWithTheSaleAsItsAudience(t *testing.T) {
	sys := startSystem(t)
	saleID := sys.createSale(t, map[string]any{"sku": "H-4", "name": "Audience", "stock": 3, "outflow_per_second": 100})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admitted, _ := admitOne(t, ctx, sys, saleID)

	parts := strings.Split(admitted.Token, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts", len(parts))
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var payload map[string]json.RawMessage
	if err := json.Unmarshal(raw, &payload); err != nil {
		t.Fatal(err)
	}
	var aud string
	if err := json.Unmarshal(payload["aud"], &aud); err != nil || aud != saleID {
		t.Errorf("aud is %s, want the JSON string %q", payload["aud"], saleID)
	}

	var jwks struct{ Keys []keyring.JWK }
	if status := sys.call(t, http.MethodGet, "/.well-known/jwks.json", "", nil, &jwks); status != http.StatusOK {
		t.Fatalf("jwks: %d", status)
	}
	keyFor := func(tok *jwt.Token) (any, error) {
		for _, k := range jwks.Keys {
			if k.Kid == tok.Header["kid"] && k.Kty == "OKP" && k.Crv == "Ed25519" {
				x, err := base64.RawURLEncoding.DecodeString(k.X)
				return ed25519.PublicKey(x), err
			}
		}
		return nil, fmt.Errorf("no key %v", tok.Header["kid"])
	}
	strict := func(audience string) error {
		_, err := jwt.Parse(admitted.Token, keyFor,
			jwt.WithValidMethods([]string{jwt.SigningMethodEdDSA.Alg()}),
			jwt.WithIssuer("foyer"), jwt.WithAudience(audience), jwt.WithExpirationRequired())
		return err
	}
	if err := strict(saleID); err != nil {
		t.Errorf("a shop's strict verifier refused the token: %v", err)
	}
	if err := strict("s_anothersale"); !errors.Is(err, jwt.ErrTokenInvalidAudience) {
		t.Errorf("verified for another sale: %v, want an invalid audience", err)
	}
}
