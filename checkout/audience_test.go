package checkout_test

import (
	"errors"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/foyerhq/foyer/checkout"
	"github.com/foyerhq/foyer/internal/keyring"
)

// Tokens issued before the audience became a string (an array of one) still
// verify until they expire; an array naming two audiences does not.
func TestAReservationTokenWithTheAudienceAsAnArrayStillVerifies(t *testing.T) {
	ring, err := keyring.New(keyring.NewSeed())
	if err != nil {
		t.Fatal(err)
	}
	tokens := checkout.NewTokens(ring)
	for _, tc := range []struct {
		audience jwt.ClaimStrings
		ok       bool
	}{
		{jwt.ClaimStrings{"sale-1"}, true},
		{jwt.ClaimStrings{"sale-1", "sale-2"}, false},
	} {
		claims := ring.NewClaims("shopper-1", "", "r_1", time.Minute)
		claims.Audience = tc.audience
		token, err := ring.Sign(claims)
		if err != nil {
			t.Fatal(err)
		}
		_, err = tokens.Verify("sale-1", token)
		if tc.ok && err != nil {
			t.Errorf("aud %v: %v, want verified", tc.audience, err)
		}
		if !tc.ok && !errors.Is(err, checkout.ErrTokenInvalid) {
			t.Errorf("aud %v: %v, want token invalid", tc.audience, err)
		}
	}
}
