package keyring_test

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/foyerhq/foyer/internal/keyring"
)

func TestJWKSListsEveryKeyAsAnEd25519PublicKey(t *testing.T) {
	newSeed, oldSeed := keyring.NewSeed(), keyring.NewSeed()
	r := newRing(t, newSeed, oldSeed)
	wantKids := map[string]bool{
		kidOf(t, sign(t, newRing(t, newSeed))): true,
		kidOf(t, sign(t, newRing(t, oldSeed))): true,
	}

	keys := r.JWKS()["keys"]
	if len(keys) != len(wantKids) {
		t.Fatalf("JWKS holds %d keys, want %d", len(keys), len(wantKids))
	}
	for _, k := range keys {
		if k.Kty != "OKP" || k.Crv != "Ed25519" || k.Alg != "EdDSA" || k.Use != "sig" {
			t.Errorf("key %q: kty %q crv %q alg %q use %q; want OKP Ed25519 EdDSA sig", k.Kid, k.Kty, k.Crv, k.Alg, k.Use)
		}
		if !wantKids[k.Kid] {
			t.Errorf("key %q is not the kid of any of the ring's keys", k.Kid)
		}
		delete(wantKids, k.Kid)
		x, err := base64.RawURLEncoding.DecodeString(k.X)
		if err != nil || len(x) != ed25519.PublicKeySize {
			t.Errorf("key %q: x decodes to %d bytes, %v; want %d", k.Kid, len(x), err, ed25519.PublicKeySize)
		}
	}
	if len(wantKids) > 0 {
		t.Errorf("JWKS misses kids %v", wantKids)
	}
}

// What a shop does with the JWKS: pick the key by the token's kid and check
// the signature, without calling Foyer.
func TestJWKSVerifiesTheRingsSignaturesByKid(t *testing.T) {
	oldSeed := keyring.NewSeed()
	r := newRing(t, keyring.NewSeed(), oldSeed)
	tokens := map[string]string{
		"active key":  sign(t, r),
		"retired key": sign(t, newRing(t, oldSeed)),
	}

	// Through JSON, as a shop receives it.
	body, err := json.Marshal(r.JWKS())
	if err != nil {
		t.Fatal(err)
	}
	var set struct {
		Keys []keyring.JWK `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil {
		t.Fatal(err)
	}
	byKid := map[string]ed25519.PublicKey{}
	for _, k := range set.Keys {
		x, err := base64.RawURLEncoding.DecodeString(k.X)
		if err != nil {
			t.Fatal(err)
		}
		byKid[k.Kid] = x
	}

	for name, token := range tokens {
		t.Run(name, func(t *testing.T) {
			pub, ok := byKid[kidOf(t, token)]
			if !ok {
				t.Fatalf("no JWKS key has the token's kid %q", kidOf(t, token))
			}
			// By hand, RFC 8037: the signature is over "header.payload".
			i := strings.LastIndexByte(token, '.')
			sig, err := base64.RawURLEncoding.DecodeString(token[i+1:])
			if err != nil {
				t.Fatal(err)
			}
			if !ed25519.Verify(pub, []byte(token[:i]), sig) {
				t.Fatal("the JWKS key does not verify the token's signature")
			}
			tampered := []byte(token[:i])
			tampered[len(tampered)-1] ^= 1
			if ed25519.Verify(pub, tampered, sig) {
				t.Fatal("the JWKS key verified a tampered token")
			}
			// And with a JWT library, as a shop would.
			_, err = jwt.Parse(token, func(*jwt.Token) (any, error) { return pub, nil },
				jwt.WithValidMethods([]string{"EdDSA"}), jwt.WithAudience(audience), jwt.WithIssuer(keyring.Issuer))
			if err != nil {
				t.Fatalf("jwt.Parse with the JWKS key: %v", err)
			}
		})
	}
}
