package stripepay

import (
	"context"
	"fmt"
	"iter"
	"strconv"
	"strings"

	"github.com/stripe/stripe-go/v82"

	"github.com/foyerhq/foyer/checkout"
)

// Payments lists the PaymentIntents of a sale, found by their metadata
// sale_id with Stripe's search, page after page (the library asks for the
// next page as the range goes on; 100 a page, Stripe's most). Each comes
// with its latest charge expanded, which says whether it was refunded.
// Stripe's search may lag a write by a minute: a payment made in the last
// minute may be missing, which reconciliation's docs say.
func (p *Provider) Payments(ctx context.Context, saleID string) iter.Seq2[checkout.ProviderPayment, error] {
	params := &stripe.PaymentIntentSearchParams{}
	params.Query = fmt.Sprintf("metadata['%s']:'%s'", metaSale, strings.ReplaceAll(saleID, "'", `\'`))
	params.Limit = stripe.Int64(100)
	params.AddExpand("data.latest_charge")
	return func(yield func(checkout.ProviderPayment, error) bool) {
		for pi, err := range p.sc.V1PaymentIntents.Search(ctx, params) {
			if err != nil {
				yield(checkout.ProviderPayment{}, fmt.Errorf("list the Stripe payments of sale %s: %w", saleID, err))
				return
			}
			if !yield(paymentOf(pi), nil) {
				return
			}
		}
	}
}

// paymentOf reads a PaymentIntent as a provider payment.
func paymentOf(pi *stripe.PaymentIntent) checkout.ProviderPayment {
	orderID, _ := strconv.ParseInt(pi.Metadata[metaOrder], 10, 64) // none or not a number: no order
	pay := checkout.ProviderPayment{ID: pi.ID, OrderID: orderID, SaleID: pi.Metadata[metaSale],
		ReservationID: pi.Metadata[metaReservation], AmountCents: pi.Amount,
		Currency: strings.ToUpper(string(pi.Currency)), Status: statusOf(pi.Status)}
	if c := pi.LatestCharge; c != nil {
		pay.Refunded = c.Refunded || c.AmountRefunded > 0
	}
	return pay
}
