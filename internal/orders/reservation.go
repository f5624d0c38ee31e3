package orders

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// ReservationOrder is the order of a reservation as its shopper is told
// it: its id and status, refunded for a cancelled order whose late payment
// Foyer refunded.
type ReservationOrder struct {
	ID     int64  `db:"id"`
	Status string `db:"status"`
}

// reservationOrderSQL finds the order of a reservation by the unique
// reservation_id, within its sale. A refund of a paid order's second
// payment leaves it paid: only a cancelled one reads refunded.
const reservationOrderSQL = `
SELECT o.id, CASE WHEN o.status = 'cancelled' AND EXISTS (SELECT 1 FROM refunds r WHERE r.order_id = o.id)
                  THEN 'refunded' ELSE o.status END AS status
FROM orders o
WHERE o.reservation_id = $1 AND o.sale_id = $2`

// OfReservation reads the order of a sale's reservation; ok is false when
// no order is written for it yet (the order worker has not got to it).
func (r *Reader) OfReservation(ctx context.Context, saleID, reservationID string) (o ReservationOrder, ok bool, err error) {
	err = r.db.GetContext(ctx, &o, reservationOrderSQL, reservationID, saleID)
	if errors.Is(err, sql.ErrNoRows) {
		return ReservationOrder{}, false, nil
	}
	if err != nil {
		return ReservationOrder{}, false, fmt.Errorf("read the order of reservation %s of %s: %w", reservationID, saleID, err)
	}
	return o, true, nil
}
