package keyring_test

import (
	"crypto/ed25519"
	"encoding/base64"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/foyerhq/foyer/internal/keyring"
)

// BenchmarkReservationTokens sets the ring's check of a reservation token
// (the checkout's, on every order) against the baseline a shop runs with the
// JWKS: jwt's own parse, verifying the Ed25519 signature with the public
// key. The ring signs the token's text again and compares (see key.signed);
// the ratio of the two ns/op is the lever's.
func BenchmarkReservationTokens(b *testing.B) {
	seed := keyring.NewSeed()
	r, err := keyring.New(seed)
	if err != nil {
		b.Fatal(err)
	}
	raw, err := base64.RawURLEncoding.DecodeString(seed)
	if err != nil {
		b.Fatal(err)
	}
	public := ed25519.NewKeyFromSeed(raw).Public()
	token, err := r.Sign(r.NewClaims("v_bench", "s_bench", "r_bench", time.Hour))
	if err != nil {
		b.Fatal(err)
	}
	b.Run("public-key", func(b *testing.B) {
		for b.Loop() {
			var c jwt.RegisteredClaims
			if _, err := jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return public, nil },
				jwt.WithValidMethods([]string{"EdDSA"}), jwt.WithIssuer(keyring.Issuer), jwt.WithAudience("s_bench"),
				jwt.WithExpirationRequired(), jwt.WithIssuedAt()); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ring", func(b *testing.B) {
		for b.Loop() {
			var c jwt.RegisteredClaims
			if err := r.Verify(token, &c, "s_bench"); err != nil {
				b.Fatal(err)
			}
		}
	})
}
