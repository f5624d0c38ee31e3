package checkout_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/foyerhq/foyer/checkout"
	"github.com/foyerhq/foyer/internal/orderstream"
)

// TestABatcherSendsManyConfirmationsInFewMessagesAndLosesNone checks out 60
// reservations at once through a service BatchedBy a window: every confirmation is on the
// stream exactly once, in fewer messages than confirmations, and the outbox
// is empty.
func TestABatcherSendsManyConfirmationsInFewMessagesAndLosesNone(t *testing.T) {
	const n = 60
	s := openSale(t, n)
	var shoppers []string
	for i := range n {
		shoppers = append(shoppers, fmt.Sprintf("shopper-%02d", i))
	}
	reservations := s.admit(t, shoppers...)
	service := checkout.NewService(s.rdb, s.tokens, s.publisher, partitions, discard, checkout.BatchedBy(50*time.Millisecond, 0))
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { service.Run(ctx); close(done) }()

	var wg sync.WaitGroup
	for _, r := range reservations {
		wg.Go(func() {
			if _, err := service.Checkout(t.Context(), saleID, s.token(t, r), 1); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	cancel() // Run publishes what is still queued before it returns
	<-done

	entries := streamMessages(t, s.rdb, partitions.Topic(orderstream.Orders, saleID))
	seen := map[string]int{}
	for _, msg := range entries {
		batch, err := orderstream.DecodeConfirmations(msg.Payload)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range batch {
			seen[c.ReservationID]++
		}
	}
	for _, r := range reservations {
		if seen[r.ID] != 1 {
			t.Errorf("reservation %s is on the stream %d times", r.ID, seen[r.ID])
		}
	}
	if len(entries) >= n {
		t.Errorf("%d messages for %d confirmations: nothing was batched", len(entries), n)
	}
	if left := s.outbox(t); len(left) != 0 {
		t.Errorf("%d outbox entries left", len(left))
	}
	t.Logf("%d confirmations in %d messages", n, len(entries))
}
