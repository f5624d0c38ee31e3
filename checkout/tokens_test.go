package checkout_test

import (
	"errors"
	"testing"
	"time"

	"github.com/foyerhq/foyer/checkout"
	"github.com/foyerhq/foyer/internal/keyring"
	"github.com/foyerhq/foyer/waitingroom"
)

// newTokens returns tokens signed by a fresh key.
func newTokens(t *testing.T) *checkout.Tokens {
	t.Helper()
	ring, err := keyring.New(keyring.NewSeed())
	if err != nil {
		t.Fatal(err)
	}
	return checkout.NewTokens(ring)
}

// heldFor returns a reservation admitted now whose hold lasts ttl.
func heldFor(ttl time.Duration) waitingroom.Reservation {
	now := time.Now()
	return waitingroom.Reservation{
		ID: "r_1", Shopper: "shopper-1", Ticket: 7, Txn: "txn-1", Status: "held",
		AdmittedAtMs: now.UnixMilli(), ExpiresAtMs: now.Add(ttl).UnixMilli(),
	}
}

func issue(t *testing.T, tokens *checkout.Tokens, saleID string, r waitingroom.Reservation) string {
	t.Helper()
	token, err := tokens.Issue(saleID, r)
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	return token
}

func TestIssuingTwiceForOneReservationGivesTheSameToken(t *testing.T) {
	tokens := newTokens(t)
	r := heldFor(time.Minute)
	first, second := issue(t, tokens, "sale-1", r), issue(t, tokens, "sale-1", r)
	if first != second {
		t.Fatalf("two tokens for one reservation:\n%s\n%s", first, second)
	}
	r.ID = "r_2"
	if issue(t, tokens, "sale-1", r) == first {
		t.Fatal("another reservation got the same token")
	}
}

func TestVerifyReturnsTheReservationTheTokenWasIssuedFor(t *testing.T) {
	tokens := newTokens(t)
	r := heldFor(time.Minute)
	claims, err := tokens.Verify("sale-1", issue(t, tokens, "sale-1", r))
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if claims.ID != r.ID || claims.Subject != r.Shopper || claims.Txn != r.Txn {
		t.Fatalf("claims = reservation %q, shopper %q, txn %q; want %q, %q, %q",
			claims.ID, claims.Subject, claims.Txn, r.ID, r.Shopper, r.Txn)
	}
	// The token dies with the hold, never after it.
	if claims.ExpiresAt.After(r.ExpiresAt()) || r.ExpiresAt().Sub(claims.ExpiresAt.Time) >= time.Second {
		t.Fatalf("token expires at %v, want within the second before the hold's %v", claims.ExpiresAt.Time, r.ExpiresAt())
	}
}

func TestVerifyTellsWhyATokenIsRefused(t *testing.T) {
	tokens := newTokens(t)
	tests := []struct {
		name  string
		token func(t *testing.T) string
		want  error
	}{
		{"for another sale", func(t *testing.T) string {
			return issue(t, tokens, "sale-2", heldFor(time.Minute))
		}, checkout.ErrTokenWrongSale},
		{"past its hold", func(t *testing.T) string {
			r := heldFor(-time.Minute)
			r.AdmittedAtMs = time.Now().Add(-2 * time.Minute).UnixMilli()
			return issue(t, tokens, "sale-1", r)
		}, checkout.ErrTokenExpired},
		{"signed by another key", func(t *testing.T) string {
			return issue(t, newTokens(t), "sale-1", heldFor(time.Minute))
		}, checkout.ErrTokenInvalid},
		{"without a shopper", func(t *testing.T) string {
			r := heldFor(time.Minute)
			r.Shopper = ""
			return issue(t, tokens, "sale-1", r)
		}, checkout.ErrTokenInvalid},
		{"without a reservation", func(t *testing.T) string {
			r := heldFor(time.Minute)
			r.ID = ""
			return issue(t, tokens, "sale-1", r)
		}, checkout.ErrTokenInvalid},
		{"garbage", func(*testing.T) string { return "garbage" }, checkout.ErrTokenInvalid},
		{"empty", func(*testing.T) string { return "" }, checkout.ErrTokenInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			claims, err := tokens.Verify("sale-1", tt.token(t))
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %+v, %v; want %v", claims, err, tt.want)
			}
		})
	}
}
