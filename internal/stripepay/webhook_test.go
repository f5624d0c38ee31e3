package stripepay_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v82/webhook"

	"github.com/foyerhq/foyer/checkout"
	"github.com/foyerhq/foyer/internal/orderstream"
	"github.com/foyerhq/foyer/internal/stripepay"
)

const endpointSecret = "whsec_test_foyer_endpoint"

// signedEvent is a Stripe event about a PaymentIntent with meta, signed at
// at with secret by stripe-go's test helper.
func signedEvent(t *testing.T, secret, id, typ string, meta map[string]string, at time.Time) ([]byte, http.Header) {
	t.Helper()
	body, err := json.Marshal(map[string]any{"id": id, "object": "event", "type": typ, "api_version": "2019-01-01",
		"data": map[string]any{"object": map[string]any{"id": "pi_" + id, "object": "payment_intent",
			"status": "succeeded", "metadata": meta}}})
	if err != nil {
		t.Fatal(err)
	}
	signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: secret, Timestamp: at})
	return signed.Payload, http.Header{stripepay.SignatureHeader: {signed.Header}}
}

var orderMeta = map[string]string{"order_id": "42", "sale_id": "s_drop", "reservation_id": "r_abc", "transaction_id": "txn_9"}

func TestPaymentIntentEventsBecomeTheirOrdersResults(t *testing.T) {
	w := &stripepay.Webhooks{Secret: endpointSecret}
	for typ, want := range map[string]string{
		"payment_intent.succeeded": checkout.PaymentPaid,
		"payment_intent.canceled":  checkout.PaymentFailed,
	} {
		body, h := signedEvent(t, endpointSecret, "evt_1", typ, orderMeta, time.Now())
		ev, err := w.Verify(body, h)
		if err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		wantResult := orderstream.PaymentResult{OrderID: 42, SaleID: "s_drop", ReservationID: "r_abc", Status: want,
			PaymentRef: "pi_evt_1"}
		if ev.ID != "evt_1" || ev.Type != typ || ev.Result == nil || *ev.Result != wantResult {
			t.Errorf("%s read as %+v (result %+v), want %+v", typ, ev, ev.Result, wantResult)
		}
	}
}

// A failed attempt is not the order's end: the shopper's page shows the
// decline at once and the shopper may try another card on the same
// PaymentIntent, so the event is read (verified) and settles nothing; the
// order waits for its payment timeout.
func TestAFailedPaymentAttemptOfAFoyerOrderSettlesNothing(t *testing.T) {
	w := &stripepay.Webhooks{Secret: endpointSecret}
	body, h := signedEvent(t, endpointSecret, "evt_f", "payment_intent.payment_failed", orderMeta, time.Now())
	ev, err := w.Verify(body, h)
	if err != nil {
		t.Fatal(err)
	}
	if ev.ID != "evt_f" || ev.Type != "payment_intent.payment_failed" || ev.Result != nil ||
		!strings.Contains(ev.Ignored, "failed attempt") {
		t.Errorf("read as %+v (result %+v); want no result, ignored as a failed attempt", ev, ev.Result)
	}
}

func TestEventsFoyerHasNoUseForAreReadButCarryNoResult(t *testing.T) {
	w := &stripepay.Webhooks{Secret: endpointSecret}
	for name, c := range map[string]struct {
		typ  string
		meta map[string]string
	}{
		"another type":                {"charge.refunded", orderMeta},
		"another payment of the shop": {"payment_intent.succeeded", map[string]string{"cart": "77"}},
		"an order id that is no id":   {"payment_intent.succeeded", map[string]string{"order_id": "x", "sale_id": "s", "reservation_id": "r"}},
	} {
		body, h := signedEvent(t, endpointSecret, "evt_2", c.typ, c.meta, time.Now())
		ev, err := w.Verify(body, h)
		if err != nil || ev.Result != nil || ev.Ignored == "" {
			t.Errorf("%s: %+v, %v; want no result, and why", name, ev, err)
		}
	}
}

func TestAForgedOrStaleWebhookIsRefused(t *testing.T) {
	w := &stripepay.Webhooks{Secret: endpointSecret}
	forged, fh := signedEvent(t, "whsec_someone_else", "evt_3", "payment_intent.succeeded", orderMeta, time.Now())
	if _, err := w.Verify(forged, fh); !errors.Is(err, checkout.ErrBadSignature) {
		t.Errorf("forged: %v, want ErrBadSignature", err)
	}
	if _, err := w.Verify(forged, http.Header{}); !errors.Is(err, checkout.ErrBadSignature) {
		t.Errorf("unsigned: %v, want ErrBadSignature", err)
	}
	stale, sh := signedEvent(t, endpointSecret, "evt_4", "payment_intent.succeeded", orderMeta,
		time.Now().Add(-checkout.WebhookTolerance-time.Minute))
	if _, err := w.Verify(stale, sh); !errors.Is(err, checkout.ErrWebhookExpired) {
		t.Errorf("stale: %v, want ErrWebhookExpired", err)
	}
	tampered, th := signedEvent(t, endpointSecret, "evt_5", "payment_intent.payment_failed", orderMeta, time.Now())
	tampered = []byte(string(tampered[:len(tampered)-1]) + ` ,"x":1}`)
	if _, err := w.Verify(tampered, th); !errors.Is(err, checkout.ErrBadSignature) {
		t.Errorf("tampered: %v, want ErrBadSignature", err)
	}
}

func TestASignedBodyThatIsNoEventIsABadPayload(t *testing.T) {
	w := &stripepay.Webhooks{Secret: endpointSecret}
	signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: []byte("not json"), Secret: endpointSecret})
	if _, err := w.Verify(signed.Payload, http.Header{stripepay.SignatureHeader: {signed.Header}}); !errors.Is(err, stripepay.ErrBadPayload) {
		t.Errorf("got %v, want ErrBadPayload", err)
	}
}
