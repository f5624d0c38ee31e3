package reconcile

import (
	"context"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/foyerhq/foyer/checkout"
	"github.com/foyerhq/foyer/internal/orderstream"
)

// paymentMessage is the payment result a webhook would have brought for
// the difference's order: paid, by its payment.
func paymentMessage(ctx context.Context, d Difference) (*message.Message, error) {
	msg, err := orderstream.PaymentResultsMessage([]orderstream.PaymentResult{{OrderID: d.OrderID,
		SaleID: d.saleID, ReservationID: d.reservation, Status: checkout.PaymentPaid}})
	if err != nil {
		return nil, err
	}
	msg.SetContext(ctx)
	return msg, nil
}
