package keyring_test

import (
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/foyerhq/foyer/internal/keyring"
)

// BenchmarkSessionTokens compares a session token MACed (SignPrivate,
// VerifyPrivate), as sessions now are, with one signed with Ed25519 (Sign,
// Verify), as they were: a node makes one for each new shopper and checks
// one on each reconnect.
func BenchmarkSessionTokens(b *testing.B) {
	r, err := keyring.New(keyring.NewSeed())
	if err != nil {
		b.Fatal(err)
	}
	claims := r.NewClaims("v_bench", "foyer:session", "", time.Hour)
	kinds := []struct {
		name   string
		sign   func(jwt.Claims) (string, error)
		verify func(string, jwt.Claims, string) error
	}{
		{"ed25519", r.Sign, r.Verify},
		{"hmac", r.SignPrivate, r.VerifyPrivate},
	}
	for _, k := range kinds {
		b.Run(k.name+"/sign", func(b *testing.B) {
			for b.Loop() {
				if _, err := k.sign(claims); err != nil {
					b.Fatal(err)
				}
			}
		})
		token, err := k.sign(claims)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(k.name+"/verify", func(b *testing.B) {
			for b.Loop() {
				var c jwt.RegisteredClaims
				if err := k.verify(token, &c, "foyer:session"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
