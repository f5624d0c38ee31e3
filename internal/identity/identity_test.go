package identity

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// memSpender is a Spender in memory, for the verifier's pure logic; the
// gateway's tests use Redis.
type memSpender struct {
	mu   sync.Mutex
	seen map[string]bool
}

func (m *memSpender) SpendOnce(_ context.Context, jti string, _ time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.seen[jti] {
		return false, nil
	}
	m.seen[jti] = true
	return true, nil
}

var secret = []byte("0123456789abcdefghijklmnopqrstuvwxyz-shop")

func good(now time.Time) jwt.MapClaims {
	return jwt.MapClaims{"sub": "customer-42", "aud": Audience, "iat": now.Unix(),
		"exp": now.Add(2 * time.Minute).Unix(), "jti": rand.Text(), "groups": []string{"members"}}
}

func hs(t *testing.T, c jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(secret)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestIdentityTokensAreAcceptedOnceAndOnlyWhenSound(t *testing.T) {
	now := time.Now()
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	v := NewVerifier(Keys{HS256Secret: secret, Ed25519: pub}, &memSpender{seen: map[string]bool{}}, func() time.Time { return now })

	ok := hs(t, good(now))
	c, err := v.Verify(context.Background(), ok)
	if err != nil || c.ID != "customer-42" || len(c.Groups) != 1 || c.Groups[0] != "members" {
		t.Fatalf("a sound HS256 token: %+v, %v", c, err)
	}
	eddsa, _ := jwt.NewWithClaims(jwt.SigningMethodEdDSA, good(now)).SignedString(priv)
	if c, err := v.Verify(context.Background(), eddsa); err != nil || c.ID != "customer-42" {
		t.Fatalf("a sound EdDSA token: %+v, %v", c, err)
	}

	with := func(change func(jwt.MapClaims)) string {
		c := good(now)
		change(c)
		return hs(t, c)
	}
	none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, good(now)).SignedString(jwt.UnsafeAllowNoneSignatureType)
	rs, _ := jwt.NewWithClaims(jwt.SigningMethodRS256, good(now)).SignedString(rsaKey)
	forged, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, good(now)).SignedString([]byte("another shop's secret, 32 bytes!!"))
	_, otherPriv, _ := ed25519.GenerateKey(rand.Reader)
	foreignEd, _ := jwt.NewWithClaims(jwt.SigningMethodEdDSA, good(now)).SignedString(otherPriv)
	bad := map[string]string{
		"replayed":        ok,
		"alg none":        none,
		"alg RS256":       rs,
		"wrong secret":    forged,
		"foreign ed25519": foreignEd,
		"expired": with(func(c jwt.MapClaims) {
			c["iat"] = now.Add(-3 * time.Minute).Unix()
			c["exp"] = now.Add(-time.Minute).Unix()
		}),
		"no exp":             with(func(c jwt.MapClaims) { delete(c, "exp") }),
		"exp too far":        with(func(c jwt.MapClaims) { c["exp"] = now.Add(10 * time.Minute).Unix() }),
		"exp too far no iat": with(func(c jwt.MapClaims) { delete(c, "iat"); c["exp"] = now.Add(6 * time.Minute).Unix() }),
		"iat an hour ahead": with(func(c jwt.MapClaims) {
			c["iat"] = now.Add(time.Hour).Unix()
			c["exp"] = now.Add(time.Hour + time.Minute).Unix()
		}),
		"iat 4 min ago, exp in 2": with(func(c jwt.MapClaims) { c["iat"] = now.Add(-4 * time.Minute).Unix() }),
		"no sub":                  with(func(c jwt.MapClaims) { delete(c, "sub") }),
		"sub too long":            with(func(c jwt.MapClaims) { c["sub"] = strings.Repeat("x", 129) }),
		"sub unprintable":         with(func(c jwt.MapClaims) { c["sub"] = "a\nb" }),
		"no jti":                  with(func(c jwt.MapClaims) { delete(c, "jti") }),
		"wrong aud":               with(func(c jwt.MapClaims) { c["aud"] = "someone-else" }),
		"no aud":                  with(func(c jwt.MapClaims) { delete(c, "aud") }),
		"too many groups":         with(func(c jwt.MapClaims) { c["groups"] = make([]string, MaxGroups+1) }),
		"empty group":             with(func(c jwt.MapClaims) { c["groups"] = []string{""} }),
		"not a token":             "hello",
	}
	for name, token := range bad {
		if _, err := v.Verify(context.Background(), token); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: got %v, want ErrInvalid", name, err)
		}
	}
}

func TestIdentityIsOffWithoutKeysAndEachKeyTakesOnlyItsAlgorithm(t *testing.T) {
	if v := NewVerifier(Keys{}, nil, nil); v != nil {
		t.Fatal("a verifier without keys should be nil: identity off")
	}
	now := time.Now()
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	onlyEd := NewVerifier(Keys{Ed25519: pub}, &memSpender{seen: map[string]bool{}}, func() time.Time { return now })
	if _, err := onlyEd.Verify(context.Background(), hs(t, good(now))); !errors.Is(err, ErrInvalid) {
		t.Fatalf("an HS256 token where only EdDSA is configured: %v", err)
	}
}

func TestCustomerShopperIDsAreStableDistinctAndOpaque(t *testing.T) {
	key := []byte("derived key")
	a, b := ShopperID(key, "customer-42"), ShopperID(key, "customer-42")
	if a != b || !IsCustomer(a) || len(a) != 2+26 {
		t.Fatalf("shopper ids %q %q", a, b)
	}
	if ShopperID(key, "customer-43") == a || ShopperID([]byte("other"), "customer-42") == a {
		t.Fatal("different customers or keys share a shopper id")
	}
	if strings.Contains(a, "42") && strings.Contains(a, "customer") {
		t.Fatal("the shopper id shows the customer id")
	}
}
