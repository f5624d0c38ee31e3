package worker

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// TellRefunded tells the shopper of a cancelled order that a payment of it
// was given back, as the settler tells of the refunds it makes itself: `foyer
// reconcile --payments --repair` refunds through the provider and tells the
// shopper through here. An order that is not cancelled (a second payment of
// a paid order given back) is told nothing: the shopper still has what it
// paid for, and `refunded` would tell its page the unit went back.
func (p *PaymentSettler) TellRefunded(ctx context.Context, orderID int64) error {
	var o settledOrder
	err := p.db.GetContext(ctx, &o, `SELECT transaction_id, sale_id, reservation_id, shopper_id, quantity, status,
		`+eventSKUColumn+` FROM orders o WHERE id = $1`, orderID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read order %d to tell its refund: %w", orderID, err)
	}
	if o.Status != OrderCancelled {
		return nil
	}
	return p.announce(ctx, orderID, o, OrderRefunded)
}
