package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/foyerhq/foyer/checkout"
	"github.com/foyerhq/foyer/waitingroom"
)

// confirmsOnceBegun confirms any checkout, as the real one does once
// confirm.lua has run, unless the request's going away reaches it first;
// then it fails as a Redis call on a cancelled context does. It closes
// begun when asked. With panics set, it panics instead.
type confirmsOnceBegun struct {
	begun  chan struct{}
	panics bool
}

func (c confirmsOnceBegun) CheckoutVerified(ctx context.Context, _ checkout.Verified, _ string, quantity int) (checkout.Receipt, error) {
	close(c.begun)
	if c.panics {
		panic("checkout bug")
	}
	select {
	case <-ctx.Done():
		return checkout.Receipt{}, fmt.Errorf("confirm reservation: %w", ctx.Err())
	case <-time.After(time.Second): // the client's leaving did not reach the checkout
	}
	return checkout.Receipt{ReservationID: "r_1_1", Status: "confirmed", Quantity: quantity}, nil
}

// checkoutNode is a test node whose checkouts are c's, with idempotent
// answers in its real Redis, and a token a shopper could send.
func checkoutNode(t *testing.T, c confirmsOnceBegun) (*testNode, string) {
	t.Helper()
	n := startTestNode(t, nil)
	n.s.deps.Checkout = c
	n.s.deps.Answers = checkout.NewAnswers(n.rdb)
	token, err := n.s.deps.Tokens.Issue("s_pay", waitingroom.Reservation{ID: "r_1_1", Shopper: "v_1",
		AdmittedAtMs: time.Now().UnixMilli(), ExpiresAtMs: time.Now().Add(time.Hour).UnixMilli()})
	if err != nil {
		t.Fatal(err)
	}
	return n, token
}

// postCheckout sends a checkout with key on ctx.
func (n *testNode) postCheckout(ctx context.Context, token, key string) (int, string, error) {
	body, _ := json.Marshal(map[string]string{"token": token})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, n.url+"/v1/sales/s_pay/checkout", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(answer), nil
}

// A client that goes away while its checkout runs no longer leaves its
// Idempotency-Key claimed: the checkout ends as begun and its answer is
// stored, so the retry gets the confirmation. The checkout used to fail on
// the request's cancelled context (500), freeing the key failed on it too,
// and the retry got request_in_progress for 30s, then token_reused.
func TestACheckoutWhoseClientWentAwayIsAnsweredToItsRetry(t *testing.T) {
	begun := make(chan struct{})
	n, token := checkoutNode(t, confirmsOnceBegun{begun: begun})
	ctx := testContext(t)
	leaving, leave := context.WithCancel(ctx)
	gone := make(chan error, 1)
	go func() { _, _, err := n.postCheckout(leaving, token, "key-gone"); gone <- err }()
	<-begun
	leave()
	if err := <-gone; err == nil {
		t.Fatal("the request was answered before the client left")
	}
	key := checkout.AnswerKey("s_pay", "v_1", "key-gone")
	for { // await the first request's end: its answer stored, or its key freed
		raw, err := n.rdb.Get(ctx, key).Bytes()
		var a checkout.Answer
		if err == nil && json.Unmarshal(raw, &a) == nil && !a.InFlight {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("the key is still claimed (%s, %v) long after its client left", raw, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	status, body, err := n.postCheckout(ctx, token, "key-gone")
	if err != nil || status != http.StatusOK {
		t.Errorf("the retry: %d %s %v, want 200 with the confirmation", status, body, err)
	}
}

// A panic while a key is claimed frees it: the retry runs afresh instead of
// hearing request_in_progress for 30s.
func TestACheckoutThatPanicsFreesItsIdempotencyKey(t *testing.T) {
	n, token := checkoutNode(t, confirmsOnceBegun{begun: make(chan struct{}), panics: true})
	ctx := testContext(t)
	status, body, err := n.postCheckout(ctx, token, "key-panic")
	if err != nil || status != http.StatusInternalServerError {
		t.Fatalf("a checkout that panics: %d %s %v, want 500", status, body, err)
	}
	if n, err := n.rdb.Exists(ctx, checkout.AnswerKey("s_pay", "v_1", "key-panic")).Result(); err != nil || n != 0 {
		t.Errorf("the key of a checkout that panicked is still claimed (%d, %v)", n, err)
	}
}
