package app_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

// A checkout sent again with its Idempotency-Key after its stored answer
// was lost (its node died after confirming, before storing it; the claim
// lapsed) is answered as the confirmation it was, with the same body, and
// changes nothing. It used to get 409 token_reused, kept for a day, for a
// checkout that had succeeded. The token under another key is still reused.
func TestACheckoutWhoseAnswerWasLostIsAnsweredAsItsConfirmationWhenSentAgain(t *testing.T) {
	sys := startSystem(t)
	saleID := sys.createSale(t, map[string]any{"sku": "I-9", "name": "Lost answer", "stock": 5, "outflow_per_second": 100})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admitted, conn := admitOne(t, ctx, sys, saleID)
	req := map[string]any{"token": admitted.Token}
	status, first, _ := sys.postCheckout(t, saleID, "key-lost", req)
	if status != http.StatusOK {
		t.Fatalf("first checkout: %d %s", status, first)
	}
	expectMessage(t, ctx, conn, "order")
	keys, err := sys.Redis.Keys(ctx, "sale:*:idem:*").Result()
	if err != nil || len(keys) != 1 {
		t.Fatalf("stored answers %v, %v; want the one", keys, err)
	}
	if err := sys.Redis.Del(ctx, keys...).Err(); err != nil { // the answer lost
		t.Fatal(err)
	}
	before := sys.snapshot(t, saleID)
	status, again, _ := sys.postCheckout(t, saleID, "key-lost", req)
	if status != http.StatusOK || again != first {
		t.Errorf("sent again: %d %s, want 200 %s", status, again, first)
	}
	sys.assertUnchanged(t, saleID, before, "a confirmation answered again")
	if status, body, _ := sys.postCheckout(t, saleID, "key-other", req); status != http.StatusConflict || !strings.Contains(body, "token_reused") {
		t.Errorf("the token under another key: %d %s, want 409 token_reused", status, body)
	}
	if status, body, _ := sys.postCheckout(t, saleID, "key-lost", map[string]any{"token": admitted.Token, "quantity": 2}); status == http.StatusOK {
		t.Errorf("the key with another quantity: %d %s, want a refusal", status, body)
	}
	sys.assertUnchanged(t, saleID, before, "refused checkouts")
}
