package checkout_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/foyerhq/foyer/checkout"
	"github.com/foyerhq/foyer/internal/orderstream"
	"github.com/foyerhq/foyer/internal/testenv"
	"github.com/foyerhq/foyer/waitingroom"
)

// otherSale loads and opens one more sale of stock units in s's Redis, and
// admits the shoppers; it returns their reservations.
func (s *sale) otherSale(t *testing.T, id string, stock int, shoppers ...string) []waitingroom.Reservation {
	t.Helper()
	ctx := t.Context()
	now := time.Now()
	plan := waitingroom.Plan{
		ID: id, SKU: "SKU-" + id, Name: "Sale " + id, PriceCents: priceCents, Currency: "EUR", Stock: stock,
		StartsAt: now.Add(-time.Minute), EndsAt: now.Add(time.Hour), OutflowPerSecond: 10, ReservationTTLSeconds: 60,
	}
	if err := s.rooms.Load(ctx, &plan); err != nil {
		t.Fatal(err)
	}
	k := waitingroom.Keys(id)
	if err := s.rdb.HSet(ctx, k.Meta, "state", string(waitingroom.StateOpen)).Err(); err != nil {
		t.Fatal(err)
	}
	if err := s.rdb.Set(ctx, k.Fence, fence, 0).Err(); err != nil {
		t.Fatal(err)
	}
	for _, shopper := range shoppers {
		if _, err := s.rooms.Join(ctx, id, shopper, "txn-"+shopper); err != nil {
			t.Fatal(err)
		}
	}
	admitted, err := s.admitter.Admit(ctx, id, fence, len(shoppers))
	if err != nil || len(admitted) != len(shoppers) {
		t.Fatalf("admitted %d of %d shoppers: %v", len(admitted), len(shoppers), err)
	}
	return admitted
}

// onStream reads every confirmation on a topic, with how many messages
// carried them.
func onStream(t *testing.T, rdb *redis.Client, topic string) (confirmations []orderstream.ReservationConfirmed, messages int) {
	t.Helper()
	msgs := streamMessages(t, rdb, topic)
	for _, msg := range msgs {
		cs, err := orderstream.DecodeConfirmations(msg.Payload)
		if err != nil {
			t.Fatal(err)
		}
		confirmations = append(confirmations, cs...)
	}
	return confirmations, len(msgs)
}

// A batch gathers many sales' confirmations; it goes out as one message per
// partition they fall in, each confirmation on its own sale's partition,
// once, and the outbox is empty after. When one partition's message fails,
// only its confirmations stay in the outbox, and the relay sends them.
func TestABatchOfManySalesGoesOutAsOneMessagePerPartitionAndLosesNone(t *testing.T) {
	const sales, perSale = 12, 3
	s := openSale(t, 1)
	type checkoutOf struct {
		sale string
		r    waitingroom.Reservation
	}
	var all []checkoutOf
	for i := range sales {
		id := fmt.Sprintf("s_many_%02d", i)
		var shoppers []string
		for j := range perSale {
			shoppers = append(shoppers, fmt.Sprintf("%s-shopper-%d", id, j))
		}
		for _, r := range s.otherSale(t, id, perSale, shoppers...) {
			all = append(all, checkoutOf{id, r})
		}
	}
	service := checkout.NewService(s.rdb, s.tokens, s.publisher, partitions, discard, checkout.BatchedBy(time.Second, 0))
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { service.Run(ctx); close(done) }()
	// The first partition's message fails, as if the broker went away for it.
	s.publisher.failNext(1)
	var wg sync.WaitGroup
	for _, c := range all {
		wg.Go(func() {
			if _, err := service.Checkout(t.Context(), c.sale, issue(t, s.tokens, c.sale, c.r), 1); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	cancel() // Run publishes what is still queued before it returns
	<-done

	failed := map[string]bool{} // the sales whose confirmations stayed in the outbox
	failedPartitions := map[int]bool{}
	var left int64
	for i := range sales {
		id := fmt.Sprintf("s_many_%02d", i)
		if n, _ := s.rdb.ZCard(t.Context(), waitingroom.Keys(id).Outbox).Result(); n > 0 {
			failed[id], failedPartitions[partitions.Of(id)] = true, true
			left += n
		}
	}
	if len(failedPartitions) != 1 {
		t.Errorf("the outbox keeps the confirmations of sales %v, of partitions %v; want those of the one partition whose message failed",
			failed, failedPartitions)
	}
	relay := checkout.NewOutboxRelay(service)
	relay.Age = 0
	if n, err := relay.RelayOnce(t.Context()); err != nil || int64(n) != left {
		t.Errorf("RelayOnce = %d, %v; want the %d confirmations left in the outbox", n, err, left)
	}

	seen := map[string]int{}
	var messages int
	for p := range partitions.Count() {
		cs, n := onStream(t, s.rdb, orderstream.Orders.Partition(p))
		messages += n
		for _, c := range cs {
			seen[c.ReservationID]++
			if partitions.Of(c.SaleID) != p {
				t.Errorf("a confirmation of sale %s is on partition %d, not its own %d", c.SaleID, p, partitions.Of(c.SaleID))
			}
		}
	}
	for _, c := range all {
		if seen[c.r.ID] != 1 {
			t.Errorf("reservation %s of %s is on the streams %d times, want once", c.r.ID, c.sale, seen[c.r.ID])
		}
	}
	if messages >= len(all) {
		t.Errorf("%d messages for %d confirmations: nothing was batched", messages, len(all))
	}
	if cs, _ := onStream(t, s.rdb, orderstream.Orders.Legacy()); len(cs) != 0 {
		t.Errorf("%d confirmations on the single stream of before", len(cs))
	}
	for i := range sales {
		if n, _ := s.rdb.ZCard(t.Context(), waitingroom.Keys(fmt.Sprintf("s_many_%02d", i)).Outbox).Result(); n != 0 {
			t.Errorf("sale %d: %d outbox entries left after the relay", i, n)
		}
	}
	t.Logf("%d confirmations of %d sales in %d messages over %d partitions", len(all), sales, messages, partitions.Count())
}

// Payment results of many sales arriving together go out one message per
// partition, each result on its sale's partition.
func TestPaymentResultsOfManySalesGoToEachSalesPartition(t *testing.T) {
	rdb := testenv.RedisClient(t, testenv.NewRedis(t))
	pub, err := orderstream.NewPublisher(rdb, discard)
	if err != nil {
		t.Fatal(err)
	}
	reports := checkout.NewPaymentReports(pub, partitions)
	reports.Window = time.Second // every result below in one batch
	ctx, stop := context.WithCancel(t.Context())
	ran := make(chan error, 1)
	go func() { ran <- reports.Run(ctx) }()
	<-reports.Running()
	const n = 40
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			r := orderstream.PaymentResult{OrderID: int64(i + 1), SaleID: fmt.Sprintf("s_pay_%02d", i), Status: checkout.PaymentPaid}
			if err := reports.Report(t.Context(), r); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	stop()
	if err := <-ran; err != nil {
		t.Fatal(err)
	}
	seen := map[int64]bool{}
	var messages int
	for p := range partitions.Count() {
		msgs := streamMessages(t, rdb, orderstream.Payments.Partition(p))
		messages += len(msgs)
		for _, msg := range msgs {
			results, err := orderstream.DecodePaymentResults(msg.Payload)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range results {
				seen[r.OrderID] = true
				if partitions.Of(r.SaleID) != p {
					t.Errorf("the result of sale %s is on partition %d, not its own %d", r.SaleID, p, partitions.Of(r.SaleID))
				}
			}
		}
	}
	if len(seen) != n || messages > partitions.Count() {
		t.Errorf("%d of %d results in %d messages; want all, in at most one message per partition", len(seen), n, messages)
	}
}
