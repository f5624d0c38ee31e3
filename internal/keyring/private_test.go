package keyring

import (
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// SignPrivate encodes the header once per key rather than per token; what
// it makes must still be, byte for byte, the token jwt itself would make.
func TestAPrivateTokenIsTheOneJwtWouldMake(t *testing.T) {
	for _, seeds := range [][]string{{NewSeed()}, {NewSeed(), NewSeed()}} {
		r, err := New(seeds...)
		if err != nil {
			t.Fatal(err)
		}
		claims := r.NewClaims("v_shopper", "foyer:session", "", time.Hour)
		got, err := r.SignPrivate(claims)
		if err != nil {
			t.Fatal(err)
		}
		want := jwt.NewWithClaims(jwt.SigningMethodHS256, claims)
		want.Header["kid"] = r.active.id
		wantToken, err := want.SignedString(r.active.mac)
		if err != nil {
			t.Fatal(err)
		}
		if got != wantToken {
			t.Fatalf("SignPrivate made\n%s\nwhere jwt makes\n%s", got, wantToken)
		}
	}
}
