package orderstream

import (
	"testing"
	"time"
)

// The bytes below are what gateways published before this package existed:
// a message in flight during an upgrade is read by a worker of the other
// version, so they must not change.
const (
	oneConfirmation = `{"sale_id":"s1","reservation_id":"r1","shopper_id":"v1","txn":"t1","quantity":2,` +
		`"price_cents":1500,"currency":"EUR","confirmed_at":"2026-01-02T03:04:05Z"}`
	oneResult = `{"order_id":7,"sale_id":"s1","reservation_id":"r1","status":"paid"}`
)

var confirmation = ReservationConfirmed{SaleID: "s1", ReservationID: "r1", ShopperID: "v1", Txn: "t1", Quantity: 2,
	PriceCents: 1500, Currency: "EUR", ConfirmedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}

func TestTheMessagesOnTheStreamsKeepTheirBytes(t *testing.T) {
	one, err := ConfirmationMessage(confirmation)
	if err != nil {
		t.Fatal(err)
	}
	if string(one.Payload) != oneConfirmation || one.UUID != "r1" || one.Metadata.Get(TxnMetadataKey) != "t1" {
		t.Errorf("one confirmation: id %q, txn %q, payload %s; want id r1, txn t1, payload %s",
			one.UUID, one.Metadata.Get(TxnMetadataKey), one.Payload, oneConfirmation)
	}
	second := confirmation
	second.ReservationID = "r2"
	batch, err := ConfirmationBatchMessage([]ReservationConfirmed{confirmation, second})
	wantBatch := `{"confirmations":[` + oneConfirmation + `,` +
		`{"sale_id":"s1","reservation_id":"r2","shopper_id":"v1","txn":"t1","quantity":2,` +
		`"price_cents":1500,"currency":"EUR","confirmed_at":"2026-01-02T03:04:05Z"}]}`
	if err != nil || string(batch.Payload) != wantBatch || batch.UUID != "batch-r1" {
		t.Errorf("a batch of confirmations: id %q, payload %s, %v; want id batch-r1, payload %s", batch.UUID, batch.Payload, err, wantBatch)
	}

	paid := PaymentResult{OrderID: 7, SaleID: "s1", ReservationID: "r1", Status: "paid"}
	alone, err := PaymentResultsMessage([]PaymentResult{paid})
	if err != nil || string(alone.Payload) != oneResult {
		t.Errorf("one payment result: %s, %v; want the result alone, %s", alone.Payload, err, oneResult)
	}
	two, err := PaymentResultsMessage([]PaymentResult{paid, paid})
	if wantTwo := `{"results":[` + oneResult + `,` + oneResult + `]}`; err != nil || string(two.Payload) != wantTwo {
		t.Errorf("two payment results: %s, %v; want %s", two.Payload, err, wantTwo)
	}
}

func TestALoneConfirmationOrResultFromAnEarlierVersionStillDecodes(t *testing.T) {
	cs, err := DecodeConfirmations([]byte(oneConfirmation))
	if err != nil || len(cs) != 1 || cs[0] != confirmation {
		t.Errorf("a lone confirmation decodes to %+v, %v; want %+v", cs, err, confirmation)
	}
	rs, err := DecodePaymentResults([]byte(oneResult))
	if err != nil || len(rs) != 1 || rs[0].OrderID != 7 || rs[0].Status != "paid" {
		t.Errorf("a lone payment result decodes to %+v, %v; want order 7 paid", rs, err)
	}
}

func TestARedeemedConfirmationCarriesTheShopsOrderRefAndCustomerAndAnOldOneDecodesWithout(t *testing.T) {
	redeemed := confirmation
	redeemed.ShopOrderRef, redeemed.CustomerID = "order-77", "cust-9"
	msg, err := ConfirmationMessage(redeemed)
	if err != nil {
		t.Fatal(err)
	}
	want := oneConfirmation[:len(oneConfirmation)-1] + `,"shop_order_ref":"order-77","customer_id":"cust-9"}`
	if string(msg.Payload) != want {
		t.Errorf("a redeemed confirmation: %s, want %s", msg.Payload, want)
	}
	cs, err := DecodeConfirmations(msg.Payload)
	if err != nil || len(cs) != 1 || cs[0] != redeemed || !cs[0].Redeemed() {
		t.Errorf("a redeemed confirmation decodes to %+v, %v; want %+v, redeemed", cs, err, redeemed)
	}
	old, err := DecodeConfirmations([]byte(oneConfirmation))
	if err != nil || len(old) != 1 || old[0].Redeemed() || old[0].CustomerID != "" {
		t.Errorf("a confirmation of an earlier version decodes to %+v, %v; want it not redeemed, with no customer", old, err)
	}
}

func TestAMessageThatIsNoConfirmationIsRefused(t *testing.T) {
	for _, payload := range []string{`not json`, `{}`, `{"sale_id":"s1"}`} {
		if cs, err := DecodeConfirmations([]byte(payload)); err == nil {
			t.Errorf("%s decodes to %+v, want an error", payload, cs)
		}
	}
}
