package worker

import (
	"context"
	"errors"
	"fmt"

	"github.com/lib/pq"

	"github.com/foyerhq/foyer/checkout"
	"github.com/foyerhq/foyer/internal/orderstream"
	"github.com/foyerhq/foyer/internal/wire"
)

// LateRefunder gives back the money of a payment that succeeded after its
// order was cancelled (its unit back in the sale, maybe sold again): the
// payment named by ref, the provider's own id, which only its verified
// webhook sets. It refunds once however often it is asked, and answers
// checkout.ErrRefundRefused for a payment it will never refund.
type LateRefunder interface {
	RefundPayment(ctx context.Context, ref string, orderID int64) error
}

// refundLate refunds the paid results whose orders were cancelled first,
// when the settler has a Refunds. A refund the provider refuses is set
// aside for an operator (the message's poison entry) once the rest is
// settled; any other failure retries the message, and the provider's
// idempotency makes the retry refund once.
func (p *PaymentSettler) refundLate(ctx context.Context, results []orderstream.PaymentResult) ([]error, error) {
	if p.Refunds == nil {
		return nil, nil
	}
	refs := map[int64]string{}
	var ids []int64
	for _, r := range results {
		if r.Status == checkout.PaymentPaid && r.PaymentRef != "" {
			refs[r.OrderID] = r.PaymentRef
			ids = append(ids, r.OrderID)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	var cancelled []int64
	if err := p.db.SelectContext(ctx, &cancelled, `SELECT id FROM orders WHERE id = ANY($1) AND status = 'cancelled'`,
		pq.Array(ids)); err != nil {
		return nil, fmt.Errorf("find the cancelled orders of %d payments: %w", len(ids), err)
	}
	var refused []error
	for _, id := range cancelled {
		err := p.Refunds.RefundPayment(ctx, refs[id], id)
		if errors.Is(err, checkout.ErrRefundRefused) {
			p.log.Warn("late payment of a cancelled order not refunded; refund it by hand", "order", id,
				"payment", refs[id], "err", err)
			refused = append(refused, fmt.Errorf("order %d: %w: %w", id, errPermanent, err))
			continue
		}
		if err != nil {
			return nil, err
		}
		p.log.Warn("payment succeeded after its order was cancelled: refunded", "order", id, "payment", refs[id])
		if err := p.recordRefund(ctx, id, refs[id]); err != nil {
			return nil, err
		}
	}
	return refused, nil
}

// OrderRefunded is the status the shopper's page is told when the payment
// of its cancelled order was refunded; the order itself stays cancelled.
const OrderRefunded = wire.OrderRefunded

// recordRefund writes the refund of a cancelled order's late payment, once
// per payment (a redelivered message finds it written), and tells the
// shopper. The shopper is told again on a redelivery: a failure to tell
// after the write must not lose the news, and hearing it twice is harmless.
func (p *PaymentSettler) recordRefund(ctx context.Context, orderID int64, ref string) error {
	var o settledOrder
	err := p.db.GetContext(ctx, &o, `WITH o AS (
			SELECT o.transaction_id, o.sale_id, o.reservation_id, o.shopper_id, o.quantity, o.status, o.sku,
				o.price_cents * o.quantity AS amount_cents, s.currency
			FROM orders o JOIN sales s ON s.id = o.sale_id WHERE o.id = $1),
		ins AS (INSERT INTO refunds (payment_ref, sale_id, order_id, amount_cents, currency, reason)
			SELECT $2, sale_id, $1, amount_cents, currency, 'paid after its order was cancelled' FROM o
			ON CONFLICT (payment_ref) DO NOTHING)
		SELECT transaction_id, sale_id, reservation_id, shopper_id, quantity, status, `+eventSKUColumn+` FROM o`, orderID, ref)
	if err != nil {
		return fmt.Errorf("record the refund of payment %s of order %d: %w", ref, orderID, err)
	}
	return p.announce(ctx, orderID, o, OrderRefunded)
}
