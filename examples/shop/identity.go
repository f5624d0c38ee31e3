package shop

import (
	"crypto/rand"
	"encoding/json"
	"net/http"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// identityTokenLife is how long an identity token lives: Foyer takes at
// most 5 minutes, and the page uses it at once.
const identityTokenLife = 2 * time.Minute

// IdentityToken vouches for the customer to Foyer (docs/integration.md,
// "Known customers"): HS256 with the secret Foyer shares, aud foyer, sub
// the customer id, a jti Foyer accepts once, and the customer's groups.
func IdentityToken(secret []byte, customerID string, groups []string, now time.Time) (string, error) {
	claims := jwt.MapClaims{
		"aud": "foyer",
		"sub": customerID,
		"iat": now.Unix(),
		"exp": now.Add(identityTokenLife).Unix(),
		"jti": rand.Text(),
	}
	if len(groups) > 0 {
		claims["groups"] = groups
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(secret)
}

// identityTokenJSON answers the drop page (and every reconnect of it) with
// a fresh identity token: a new session made from it is the same shopper,
// so the customer keeps their place.
func (s *Shop) identityTokenJSON(w http.ResponseWriter, r *http.Request) {
	cust, ok := s.signedIn(r)
	if !ok {
		http.Error(w, "sign in first", http.StatusUnauthorized)
		return
	}
	tok, err := IdentityToken([]byte(s.cfg.IdentitySecret), cust.ID, cust.Groups, s.now())
	if err != nil {
		http.Error(w, "could not sign the identity token", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(map[string]string{"token": tok})
}
