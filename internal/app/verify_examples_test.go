package app_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/foyerhq/foyer/checkout"
	"github.com/foyerhq/foyer/examples/shop/reservation"
	"github.com/foyerhq/foyer/internal/keyring"
	"github.com/foyerhq/foyer/waitingroom"
)

// verifyJS is the JavaScript example of docs/integration.md, from this package's folder.
var verifyJS = filepath.Join("..", "..", "examples", "verify-js", "verify.mjs")

// TestTheGoAndJavaScriptVerifiersAcceptAReservationTokenAndRefuseBadOnes runs
// both examples of "Verifying a reservation token" against a running node's
// JWKS, as a shop would.
func TestTheGoAndJavaScriptVerifiersAcceptAReservationTokenAndRefuseBadOnes(t *testing.T) {
	sys := startSystem(t)
	plan := func(sku string) map[string]any {
		return map[string]any{"sku": sku, "name": "Verified", "stock": 3, "outflow_per_second": 100,
			"checkout": "shop", "checkout_url": "https://shop.example/checkout"}
	}
	saleID := sys.createSale(t, plan("VER-1"))
	otherSale := sys.createSale(t, plan("VER-2"))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	admitted, _ := admitOne(t, ctx, sys, saleID)
	otherAdmitted, _ := admitOne(t, ctx, sys, otherSale)
	claims, err := checkout.NewTokens(mustRing(t, sys.Seed)).Verify(saleID, admitted.Token)
	if err != nil {
		t.Fatal(err)
	}
	// Signed by the node's own key, but its hold ended a minute ago.
	expired, _ := checkout.NewTokens(mustRing(t, sys.Seed)).Issue(saleID, waitingroom.Reservation{
		ID: admitted.ReservationID, Shopper: claims.Subject,
		AdmittedAtMs: time.Now().Add(-time.Hour).UnixMilli(), ExpiresAtMs: time.Now().Add(-time.Minute).UnixMilli()})
	forged, _ := checkout.NewTokens(mustRing(t, keyring.NewSeed())).Issue(saleID, waitingroom.Reservation{
		ID: admitted.ReservationID, Shopper: claims.Subject,
		AdmittedAtMs: time.Now().UnixMilli(), ExpiresAtMs: time.Now().Add(time.Minute).UnixMilli()})

	jwksURL := sys.URL + "/.well-known/jwks.json"
	verifier, err := reservation.NewVerifier(ctx, jwksURL)
	if err != nil {
		t.Fatal(err)
	}
	got, err := verifier.Verify(admitted.Token, saleID)
	if err != nil {
		t.Fatalf("Go: the admitted token is refused: %v", err)
	}
	if got.ID != admitted.ReservationID || got.ShopperID != claims.Subject || got.SaleID != saleID ||
		got.ExpiresAt.Unix() != claims.ExpiresAt.Unix() {
		t.Errorf("Go: %+v, want reservation %s of shopper %s", got, admitted.ReservationID, claims.Subject)
	}
	out, err := runVerifyJS(ctx, jwksURL, saleID, admitted.Token)
	if err != nil {
		t.Fatalf("JS: the admitted token is refused: %v: %s", err, out)
	}
	var js struct {
		ID        string `json:"id"`
		SaleID    string `json:"sale_id"`
		ShopperID string `json:"shopper_id"`
	}
	if err := json.Unmarshal([]byte(out), &js); err != nil ||
		js.ID != admitted.ReservationID || js.ShopperID != claims.Subject || js.SaleID != saleID {
		t.Errorf("JS: %s (%v), want reservation %s of shopper %s", out, err, admitted.ReservationID, claims.Subject)
	}

	cases := []struct {
		name, token string
		goErr       error
	}{
		{"tampered (another shopper in the claims)", tamper(t, admitted.Token), reservation.ErrInvalid},
		{"for another sale", otherAdmitted.Token, reservation.ErrWrongSale},
		{"expired", expired, reservation.ErrExpired},
		{"signed by a key Foyer does not publish", forged, reservation.ErrInvalid},
		{"unsigned (alg none)", unsigned(t, admitted.Token), reservation.ErrInvalid},
	}
	for _, tc := range cases {
		if _, err := verifier.Verify(tc.token, saleID); !errors.Is(err, tc.goErr) {
			t.Errorf("Go: a token %s: %v, want %v", tc.name, err, tc.goErr)
		}
		out, err := runVerifyJS(ctx, jwksURL, saleID, tc.token)
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 1 || !strings.Contains(out, "refused") {
			t.Errorf("JS: a token %s: %v %q, want refused with exit 1", tc.name, err, out)
		}
	}
}

// runVerifyJS runs the JavaScript example and returns what it printed.
func runVerifyJS(ctx context.Context, jwksURL, saleID, token string) (string, error) {
	out, err := exec.CommandContext(ctx, "node", verifyJS, jwksURL, saleID, token).CombinedOutput()
	return string(out), err
}

// tamper changes the subject of a token and keeps its signature.
func tamper(t *testing.T, token string) string {
	t.Helper()
	parts := strings.Split(token, ".")
	claims := decodeSegment(t, parts[1])
	claims["sub"] = "v_someone_else"
	parts[1] = encodeSegment(t, claims)
	return strings.Join(parts, ".")
}

// unsigned is the token's claims under alg none, with no signature.
func unsigned(t *testing.T, token string) string {
	t.Helper()
	parts := strings.Split(token, ".")
	header := decodeSegment(t, parts[0])
	header["alg"] = "none"
	return encodeSegment(t, header) + "." + parts[1] + "."
}

func decodeSegment(t *testing.T, seg string) map[string]any {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func encodeSegment(t *testing.T, m map[string]any) string {
	t.Helper()
	raw, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(raw)
}
