package keyring_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/foyerhq/foyer/internal/keyring"
)

const audience = "sale-1"

// newRing returns a ring of the given seeds, failing the test if it cannot.
func newRing(t *testing.T, seeds ...string) *keyring.Ring {
	t.Helper()
	r, err := keyring.New(seeds...)
	if err != nil {
		t.Fatalf("keyring.New: %v", err)
	}
	return r
}

// sign signs claims valid for a minute for audience, failing the test if it cannot.
func sign(t *testing.T, r *keyring.Ring) string {
	t.Helper()
	token, err := r.Sign(r.NewClaims("shopper-1", audience, "res-1", time.Minute))
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	return token
}

// kidOf returns the kid header of a token, without verifying it.
func kidOf(t *testing.T, token string) string {
	t.Helper()
	parsed, _, err := jwt.NewParser().ParseUnverified(token, &jwt.RegisteredClaims{})
	if err != nil {
		t.Fatalf("ParseUnverified: %v", err)
	}
	kid, _ := parsed.Header["kid"].(string)
	return kid
}

func TestATokenSignedByTheRingVerifiesWithItsClaims(t *testing.T) {
	r := newRing(t, keyring.NewSeed())
	token := sign(t, r)

	var claims jwt.RegisteredClaims
	if err := r.Verify(token, &claims, audience); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if claims.Subject != "shopper-1" || claims.ID != "res-1" || claims.Issuer != keyring.Issuer {
		t.Fatalf("claims = sub %q, jti %q, iss %q; want shopper-1, res-1, %s",
			claims.Subject, claims.ID, claims.Issuer, keyring.Issuer)
	}
	if got := claims.ExpiresAt.Sub(claims.IssuedAt.Time); got != time.Minute {
		t.Fatalf("token lives %v, want the 1m it was given", got)
	}
}

func TestATokenSignedByAnotherRingDoesNotVerify(t *testing.T) {
	r := newRing(t, keyring.NewSeed())
	other := newRing(t, keyring.NewSeed())

	var claims jwt.RegisteredClaims
	if err := r.Verify(sign(t, other), &claims, audience); err == nil {
		t.Fatal("Verify accepted a token signed by a key the ring does not hold")
	}
}

// A token that names one of the ring's keys but was signed by another key
// must fail on its signature, not pass on its kid.
func TestATokenBorrowingTheRingsKidDoesNotVerify(t *testing.T) {
	r := newRing(t, keyring.NewSeed())
	kid := kidOf(t, sign(t, r))
	_, forger, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	forged := jwt.NewWithClaims(jwt.SigningMethodEdDSA, r.NewClaims("shopper-1", audience, "res-1", time.Minute))
	forged.Header["kid"] = kid
	token, err := forged.SignedString(forger)
	if err != nil {
		t.Fatal(err)
	}

	var claims jwt.RegisteredClaims
	err = r.Verify(token, &claims, audience)
	if !errors.Is(err, jwt.ErrTokenSignatureInvalid) {
		t.Fatalf("Verify = %v, want jwt.ErrTokenSignatureInvalid", err)
	}
}

func TestARotatedRingVerifiesTheRetiredKeyAndSignsWithTheNewOne(t *testing.T) {
	oldSeed, newSeed := keyring.NewSeed(), keyring.NewSeed()
	before := newRing(t, oldSeed)
	after := newRing(t, newSeed, oldSeed)
	oldToken := sign(t, before)

	var claims jwt.RegisteredClaims
	if err := after.Verify(oldToken, &claims, audience); err != nil {
		t.Fatalf("the rotated ring refused a token of the retired key: %v", err)
	}
	newToken := sign(t, after)
	oldKid, newKid := kidOf(t, oldToken), kidOf(t, newToken)
	if wantKid := kidOf(t, sign(t, newRing(t, newSeed))); newKid != wantKid {
		t.Fatalf("rotated ring signs with kid %q, want the new key's %q", newKid, wantKid)
	}
	if newKid == oldKid {
		t.Fatalf("old and new keys share kid %q", newKid)
	}
	// The ring of only the retired key cannot read what the new key signed,
	// which shows the new key really signed it.
	if err := before.Verify(newToken, &claims, audience); err == nil {
		t.Fatal("a ring without the new key verified a token the new key signed")
	}
}

func TestATokenForAnotherAudienceDoesNotVerify(t *testing.T) {
	r := newRing(t, keyring.NewSeed())
	var claims jwt.RegisteredClaims
	err := r.Verify(sign(t, r), &claims, "sale-2")
	if !errors.Is(err, jwt.ErrTokenInvalidAudience) {
		t.Fatalf("Verify = %v, want jwt.ErrTokenInvalidAudience", err)
	}
}

func TestAnExpiredTokenFailsWithErrTokenExpired(t *testing.T) {
	r := newRing(t, keyring.NewSeed())
	now := time.Now()
	claims := r.NewClaims("shopper-1", audience, "res-1", time.Minute)
	claims.IssuedAt = jwt.NewNumericDate(now.Add(-2 * time.Minute))
	claims.ExpiresAt = jwt.NewNumericDate(now.Add(-time.Minute))
	token, err := r.Sign(claims)
	if err != nil {
		t.Fatal(err)
	}

	var got jwt.RegisteredClaims
	err = r.Verify(token, &got, audience)
	if !errors.Is(err, jwt.ErrTokenExpired) {
		t.Fatalf("Verify = %v, want it to wrap jwt.ErrTokenExpired", err)
	}
}

// The ring promises that Verify takes only EdDSA and VerifyPrivate only its
// MAC (or EdDSA from before), and that both require issuer and expiry.
func TestTheRingRefusesTokensItDidNotMakeToMeasure(t *testing.T) {
	r := newRing(t, keyring.NewSeed())
	kid := kidOf(t, sign(t, r))
	valid := func() jwt.RegisteredClaims { return r.NewClaims("shopper-1", audience, "res-1", time.Minute) }

	// An attacker who knows the public key (it is published in the JWKS)
	// might try it as an HMAC secret.
	var publicKey []byte
	for _, k := range r.JWKS()["keys"] {
		var err error
		if publicKey, err = base64.RawURLEncoding.DecodeString(k.X); err != nil {
			t.Fatal(err)
		}
	}

	tests := []struct {
		name  string
		token func(t *testing.T) string
	}{
		{"alg none", func(t *testing.T) string {
			tok := jwt.NewWithClaims(jwt.SigningMethodNone, valid())
			tok.Header["kid"] = kid
			s, err := tok.SignedString(jwt.UnsafeAllowNoneSignatureType)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}},
		{"HS256 keyed with the public key", func(t *testing.T) string {
			tok := jwt.NewWithClaims(jwt.SigningMethodHS256, valid())
			tok.Header["kid"] = kid
			s, err := tok.SignedString(publicKey)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}},
		{"no expiry", func(t *testing.T) string {
			c := valid()
			c.ExpiresAt = nil
			s, err := r.Sign(c)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}},
		{"another issuer", func(t *testing.T) string {
			c := valid()
			c.Issuer = "not-foyer"
			s, err := r.Sign(c)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}},
		{"issued in the future", func(t *testing.T) string {
			c := valid()
			c.IssuedAt = jwt.NewNumericDate(time.Now().Add(time.Hour))
			c.ExpiresAt = jwt.NewNumericDate(time.Now().Add(2 * time.Hour))
			s, err := r.Sign(c)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}},
		{"HS256 keyed with a secret the ring derives for another purpose", func(t *testing.T) string {
			tok := jwt.NewWithClaims(jwt.SigningMethodHS256, valid())
			tok.Header["kid"] = kid
			s, err := tok.SignedString(r.DeriveSecret("pow"))
			if err != nil {
				t.Fatal(err)
			}
			return s
		}},
		{"MACed, its claims changed", func(t *testing.T) string {
			s, err := r.SignPrivate(valid())
			if err != nil {
				t.Fatal(err)
			}
			forged := valid()
			forged.Subject = "shopper-2"
			other, err := r.SignPrivate(forged)
			if err != nil {
				t.Fatal(err)
			}
			parts, otherParts := strings.Split(s, "."), strings.Split(other, ".")
			return parts[0] + "." + otherParts[1] + "." + parts[2]
		}},
		{"MACed, no expiry", func(t *testing.T) string {
			c := valid()
			c.ExpiresAt = nil
			s, err := r.SignPrivate(c)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}},
		{"MACed, another issuer", func(t *testing.T) string {
			c := valid()
			c.Issuer = "not-foyer"
			s, err := r.SignPrivate(c)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}},
		{"garbage", func(*testing.T) string { return "not.a.token" }},
		{"empty", func(*testing.T) string { return "" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			token := tt.token(t)
			var claims jwt.RegisteredClaims
			if err := r.Verify(token, &claims, audience); err == nil {
				t.Fatal("Verify accepted it")
			}
			if err := r.VerifyPrivate(token, &claims, audience); err == nil {
				t.Fatal("VerifyPrivate accepted it")
			}
		})
	}
}

func TestBadSeedsGiveErrBadKey(t *testing.T) {
	good := keyring.NewSeed()
	raw := make([]byte, 64)
	if _, err := rand.Read(raw); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		seeds []string
	}{
		{"no seed", nil},
		{"empty seed", []string{""}},
		{"not base64", []string{"this is not base64 at all!!"}},
		{"31 bytes", []string{base64.RawURLEncoding.EncodeToString(raw[:31])}},
		{"33 bytes", []string{base64.RawURLEncoding.EncodeToString(raw[:33])}},
		{"a whole 64-byte private key", []string{base64.StdEncoding.EncodeToString(raw)}},
		{"a good seed then a bad one", []string{good, "bad"}},
	}
	tests = append(tests, placeholderAndRepeatedSeeds(t, good)...)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := keyring.New(tt.seeds...)
			if !errors.Is(err, keyring.ErrBadKey) {
				t.Fatalf("New = %v, %v; want ErrBadKey", r, err)
			}
		})
	}
}

// placeholderAndRepeatedSeeds are seeds that decode but must not start a
// node: they are guessable, or the same key twice with two verification
// windows, where "A,A@<past>" used to retire the signing key itself, so the
// node started and then refused its own tokens.
func placeholderAndRepeatedSeeds(t *testing.T, good string) []struct {
	name  string
	seeds []string
} {
	t.Helper()
	other := keyring.NewSeed()
	past := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	return []struct {
		name  string
		seeds []string
	}{
		{"an all-zero seed", []string{base64.StdEncoding.EncodeToString(make([]byte, 32))}},
		{"an all-zero seed as a retired key", []string{good, base64.StdEncoding.EncodeToString(make([]byte, 32)) + "@" + future}},
		{"one byte repeated", []string{base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0x41}, 32))}},
		{"four bytes repeated", []string{base64.StdEncoding.EncodeToString(bytes.Repeat([]byte("abcd"), 8))}},
		{"the signing key again as a retired key", []string{good, good + "@" + past}},
		{"a key listed twice", []string{good, other, other}},
		{"a key twice in two base64 forms", []string{good, reencode(t, good)}},
	}
}

// reencode writes a seed in base64's standard padded form.
func reencode(t *testing.T, seed string) string {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(seed)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(raw)
}

// TestABadSeedIsRefusedWithWhatIsWrongWithIt: the message names the key and
// the problem, so an operator knows which entry to fix.
func TestABadSeedIsRefusedWithWhatIsWrongWithIt(t *testing.T) {
	good := keyring.NewSeed()
	zero := base64.StdEncoding.EncodeToString(make([]byte, 32))
	for _, tt := range []struct {
		seeds []string
		want  string
	}{
		{[]string{zero}, "key 1: bad signing key: the seed is not random"},
		{[]string{good, good + "@2030-01-01T00:00:00Z"}, "key 2: bad signing key: it is key 1 again"},
	} {
		_, err := keyring.New(tt.seeds...)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("New(%q) = %v; want an error saying %q", tt.seeds, err, tt.want)
		}
	}
}

// A seed may be written in any of base64's four usual forms; each names the
// same key.
func TestEveryBase64FormOfASeedGivesTheSameKey(t *testing.T) {
	seed := make([]byte, ed25519.SeedSize)
	if _, err := rand.Read(seed); err != nil {
		t.Fatal(err)
	}
	// 0xfb 0xff makes the standard and URL alphabets differ ("+/" against "-_").
	seed[0], seed[1] = 0xfb, 0xff
	want := kidOf(t, sign(t, newRing(t, base64.RawURLEncoding.EncodeToString(seed))))
	tests := []struct {
		name string
		enc  *base64.Encoding
	}{
		{"standard padded", base64.StdEncoding},
		{"standard raw", base64.RawStdEncoding},
		{"URL padded", base64.URLEncoding},
		{"URL raw", base64.RawURLEncoding},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRing(t, tt.enc.EncodeToString(seed))
			if got := kidOf(t, sign(t, r)); got != want {
				t.Fatalf("kid = %q, want %q", got, want)
			}
		})
	}
}

func TestNewSeedGivesAUsableFreshKeyEveryTime(t *testing.T) {
	a, b := keyring.NewSeed(), keyring.NewSeed()
	if a == b {
		t.Fatal("NewSeed returned the same seed twice")
	}
	if kidOf(t, sign(t, newRing(t, a))) == kidOf(t, sign(t, newRing(t, b))) {
		t.Fatal("two fresh seeds gave the same kid")
	}
}

// TestAPrivateTokenVerifiesOnlyAsOne: a token MACed for Foyer's own nodes
// (a session) verifies with VerifyPrivate, on every ring of the same key and
// through a rotation, but not as a token a shop may verify (Verify), not on
// a ring of another key, and not once its key is retired. Tokens signed
// with Ed25519 before sessions were MACed still verify as private ones.
func TestAPrivateTokenVerifiesOnlyAsOne(t *testing.T) {
	seed, newer := keyring.NewSeed(), keyring.NewSeed()
	r := newRing(t, seed)
	token, err := r.SignPrivate(r.NewClaims("shopper-1", audience, "", time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	var claims jwt.RegisteredClaims
	if err := newRing(t, seed).VerifyPrivate(token, &claims, audience); err != nil || claims.Subject != "shopper-1" {
		t.Fatalf("another node of the same key: %v, subject %q", err, claims.Subject)
	}
	if err := newRing(t, newer, seed).VerifyPrivate(token, &claims, audience); err != nil {
		t.Fatalf("after a rotation: %v", err)
	}
	if err := r.Verify(token, &claims, audience); err == nil {
		t.Error("Verify, which a shop's tokens go through, accepted a MACed token")
	}
	if err := newRing(t, newer).VerifyPrivate(token, &claims, audience); err == nil {
		t.Error("a ring of another key verified the token")
	}
	retired := newRing(t, newer, seed+"@"+time.Now().Add(-time.Minute).UTC().Format(time.RFC3339))
	if err := retired.VerifyPrivate(token, &claims, audience); !errors.Is(err, keyring.ErrKeyRetired) {
		t.Errorf("a retired key's token: %v, want ErrKeyRetired", err)
	}
	if err := r.VerifyPrivate(sign(t, r), &claims, audience); err != nil {
		t.Errorf("an Ed25519 token from before: %v", err)
	}
	if err := r.VerifyPrivate(token, &claims, "another"); err == nil {
		t.Error("a token for another audience verified")
	}
}
