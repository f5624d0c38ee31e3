package checkout_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/foyerhq/foyer/checkout"
	"github.com/foyerhq/foyer/internal/orderstream"
)

// resultJSON is the JSON of a good result of order id.
func resultJSON(id int) string {
	return fmt.Sprintf(`{"order_id":%d,"sale_id":"s_1","reservation_id":"r_%d","status":"paid"}`, id, id)
}

// batchJSON is a batch of n good results.
func batchJSON(n int) string {
	results := make([]string, n)
	for i := range results {
		results[i] = resultJSON(i + 1)
	}
	return `{"results":[` + strings.Join(results, ",") + `]}`
}

// A webhook carries one result alone, or a batch of 1 to MaxWebhookResults,
// each verified; a batch with one bad result is refused whole.
func TestAWebhookBatchIsTakenWholeOrRefusedWhole(t *testing.T) {
	secret := []byte("webhook-secret")
	now := time.Now()
	verify := func(body string) ([]orderstream.PaymentResult, error) {
		return checkout.VerifyWebhookResults(secret, []byte(body), checkout.Sign(secret, []byte(body), now), now)
	}
	for _, tc := range []struct {
		name string
		body string
		want int
	}{
		{"a result alone", resultJSON(7), 1},
		{"a batch of one", batchJSON(1), 1},
		{"a batch of three", batchJSON(3), 3},
		{"a full batch", batchJSON(checkout.MaxWebhookResults), checkout.MaxWebhookResults},
	} {
		results, err := verify(tc.body)
		if err != nil || len(results) != tc.want {
			t.Errorf("%s: %d results, %v; want %d", tc.name, len(results), err, tc.want)
		}
	}
	good := strings.TrimSuffix(strings.TrimPrefix(batchJSON(2), `{"results":[`), `]}`)
	for _, tc := range []struct{ name, body string }{
		{"not JSON", `{"results":[` + good + `,}`},
		{"a result that is not an object", `{"results":[` + good + `,"paid"]}`},
		{"an unknown status", `{"results":[` + good + `,{"order_id":9,"sale_id":"s_1","reservation_id":"r_9","status":"refunded"}]}`},
		{"a reservation missing", `{"results":[` + good + `,{"order_id":9,"sale_id":"s_1","status":"paid"}]}`},
		{"a sale missing", `{"results":[` + good + `,{"order_id":9,"reservation_id":"r_9","status":"paid"}]}`},
		{"an order id missing", `{"results":[` + good + `,{"sale_id":"s_1","reservation_id":"r_9","status":"paid"}]}`},
		{"an empty batch", `{"results":[]}`},
		{"one too many", batchJSON(checkout.MaxWebhookResults + 1)},
		{"a result and a batch at once", `{"results":[` + good + `],` + strings.TrimPrefix(resultJSON(9), "{")},
	} {
		results, err := verify(tc.body)
		if !errors.Is(err, checkout.ErrBadPaymentResult) || results != nil {
			t.Errorf("%s: %d results, %v; want none, ErrBadPaymentResult", tc.name, len(results), err)
		}
	}
	// The signature covers the whole batch: another result added is
	// another body.
	body := []byte(batchJSON(2))
	header := checkout.Sign(secret, body, now)
	longer := []byte(batchJSON(3))
	if _, err := checkout.VerifyWebhookResults(secret, longer, header, now); !errors.Is(err, checkout.ErrBadSignature) {
		t.Errorf("a batch with a result added after signing: %v, want ErrBadSignature", err)
	}
	// A provider's ref is never taken from Foyer's own webhook.
	var withRef orderstream.PaymentBatch
	json.Unmarshal(body, &withRef)
	withRef.Results[1].PaymentRef = "pi_1"
	refBody, _ := json.Marshal(withRef)
	results, err := checkout.VerifyWebhookResults(secret, refBody, checkout.Sign(secret, refBody, now), now)
	if err != nil || results[1].PaymentRef != "" {
		t.Errorf("a batch naming a payment ref: %+v, %v; want it taken without the ref", results, err)
	}
}
