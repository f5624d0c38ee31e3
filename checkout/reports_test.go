package checkout_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"

	"github.com/foyerhq/foyer/checkout"
	"github.com/foyerhq/foyer/internal/orderstream"
	"github.com/foyerhq/foyer/internal/testenv"
)

// Payment results that arrive together go to the workers in few messages,
// every one of them, and each Report returns only once its result is out.
func TestPaymentResultsThatArriveTogetherGoOutInOneBatch(t *testing.T) {
	rdb := testenv.RedisClient(t, testenv.NewRedis(t))
	pub, err := orderstream.NewPublisher(rdb, discard)
	if err != nil {
		t.Fatal(err)
	}
	reports := checkout.NewPaymentReports(pub, partitions)
	ctx, stop := context.WithCancel(t.Context())
	ran := make(chan error, 1)
	go func() { ran <- reports.Run(ctx) }()
	<-reports.Running()

	const n = 50
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			errs[i] = reports.Report(t.Context(), orderstream.PaymentResult{OrderID: int64(i + 1), SaleID: "s_pay", Status: checkout.PaymentPaid})
		})
	}
	wg.Wait()
	stop()
	if err := <-ran; err != nil {
		t.Fatal(err)
	}
	for i, err := range errs {
		if err != nil {
			t.Fatalf("report %d: %v", i+1, err)
		}
	}
	entries := streamMessages(t, rdb, partitions.Topic(orderstream.Payments, "s_pay"))
	seen := map[int64]bool{}
	for _, msg := range entries {
		results, err := orderstream.DecodePaymentResults(msg.Payload)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range results {
			seen[r.OrderID] = true
		}
	}
	if len(seen) != n || len(entries) >= n/2 {
		t.Errorf("%d results in %d messages; want all %d, in far fewer messages", len(seen), len(entries), n)
	}

	// Once Run has stopped, a result goes out alone, still published.
	if err := reports.Report(t.Context(), orderstream.PaymentResult{OrderID: n + 1, SaleID: "s_pay", Status: checkout.PaymentFailed}); err != nil {
		t.Fatalf("report after Run stopped: %v", err)
	}
	if after, _ := rdb.XLen(t.Context(), partitions.Topic(orderstream.Payments, "s_pay")).Result(); after != int64(len(entries))+1 {
		t.Errorf("%d messages after one more report, want %d", after, len(entries)+1)
	}
}

// A message published by a version before batches carries one result.
func TestAPaymentMessageOfOneResultStillDecodes(t *testing.T) {
	one, _ := json.Marshal(orderstream.PaymentResult{OrderID: 7, SaleID: "s_pay", Status: checkout.PaymentPaid})
	results, err := orderstream.DecodePaymentResults(one)
	if err != nil || len(results) != 1 || results[0].OrderID != 7 || results[0].Status != checkout.PaymentPaid {
		t.Errorf("DecodePaymentResults = %+v, %v; want order 7 paid", results, err)
	}
}
