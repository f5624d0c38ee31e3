package reservation_test

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/foyerhq/foyer/examples/shop/reservation"
)

// TestATokenIsTakenForOneOfTheShopsSalesAndNoneWithoutAny: the audience is
// checked against the sales the shop names, and naming none is refused
// rather than checking no audience at all.
func TestATokenIsTakenForOneOfTheShopsSalesAndNoneWithoutAny(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(nil)
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": []map[string]string{{"kty": "OKP", "crv": "Ed25519",
			"x": base64.RawURLEncoding.EncodeToString(key.Public().(ed25519.PublicKey)), "kid": "k1", "alg": "EdDSA", "use": "sig"}}})
	}))
	t.Cleanup(jwks.Close)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	v, err := reservation.NewVerifier(ctx, jwks.URL)
	if err != nil {
		t.Fatal(err)
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, jwt.MapClaims{"iss": "foyer", "aud": "s_b", "sub": "c_x", "jti": "r_1",
		"exp": time.Now().Add(time.Minute).Unix()})
	tok.Header["kid"] = "k1"
	token, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	res, err := v.Verify(token, "s_a", "s_b")
	if err != nil || res.SaleID != "s_b" || res.ID != "r_1" || res.ShopperID != "c_x" {
		t.Errorf("a token of the shop's second sale: %+v, %v", res, err)
	}
	if _, err := v.Verify(token, "s_a"); !errors.Is(err, reservation.ErrWrongSale) {
		t.Errorf("a token of a sale the shop does not sell: %v, want ErrWrongSale", err)
	}
	if _, err := v.Verify(token); !errors.Is(err, reservation.ErrInvalid) {
		t.Errorf("no sale to check against: %v, want ErrInvalid", err)
	}
}
