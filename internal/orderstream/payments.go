package orderstream

import (
	"encoding/json"
	"fmt"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
)

// PaymentResult is what a provider's webhook reports about a charge, as it
// travels on PaymentsTopic. The order workers apply it only when its sale and
// reservation are the order's.
type PaymentResult struct {
	OrderID       int64  `json:"order_id"`
	SaleID        string `json:"sale_id"`
	ReservationID string `json:"reservation_id"`
	Status        string `json:"status"` // checkout.PaymentPaid or PaymentFailed
	// PaymentRef is the provider's id of the payment (a Stripe
	// PaymentIntent), set only from a provider's own verified webhook: the
	// settler refunds it when the payment succeeded after its order was
	// cancelled. Empty from Foyer's own webhook.
	PaymentRef string `json:"payment_ref,omitempty"`
}

// PaymentBatch is the payload of a message on PaymentsTopic that carries
// the payment results a gateway received within a few milliseconds. A
// message with one result carries the PaymentResult alone, as every message
// did before batches.
type PaymentBatch struct {
	Results []PaymentResult `json:"results"`
}

// PaymentResultsMessage is the message of results. A result alone goes out
// as one PaymentResult, which order workers of every version read; only a
// batch needs a worker that knows batches.
func PaymentResultsMessage(results []PaymentResult) (*message.Message, error) {
	var body any = PaymentBatch{Results: results}
	if len(results) == 1 {
		body = results[0]
	}
	payload, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("encode %d payment results: %w", len(results), err)
	}
	return message.NewMessage(watermill.NewUUID(), payload), nil
}

// DecodePaymentResults reads a message of PaymentsTopic, batch or single.
func DecodePaymentResults(payload []byte) ([]PaymentResult, error) {
	var b PaymentBatch
	if err := json.Unmarshal(payload, &b); err != nil {
		return nil, err
	}
	if len(b.Results) > 0 {
		return b.Results, nil
	}
	var r PaymentResult
	if err := json.Unmarshal(payload, &r); err != nil {
		return nil, err
	}
	return []PaymentResult{r}, nil
}
