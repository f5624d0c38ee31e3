package waitingroom

import (
	"context"
	"fmt"
)

// Release gives the shopper's held reservation back to the sale at once
// (release.lua): the unit is available again, and the shopper may join
// again. again is true when it had been released already, and nothing
// changed. It fails with ErrReservationUnknown, ErrReservationConfirmed
// (redeemed or checked out: too late to release) or ErrReservationExpired
// (the hold lapsed, or its order was cancelled).
func (r *Rooms) Release(ctx context.Context, saleID, shopperID, reservationID string) (again bool, err error) {
	k := Keys(saleID)
	n, err := releaseScript.Run(ctx, r.rdb, []string{k.Meta, k.Res, k.Batches, k.Shoppers, k.Events},
		reservationID, shopperID, EventsMaxLen).Int()
	if err != nil {
		return false, fmt.Errorf("release reservation %s of sale %s: %w", reservationID, saleID, confirmError(err))
	}
	if n == 1 {
		// The unit is back: the sale's admitter lets the next shopper in,
		// and a sale that had sold out is open again.
		if err := r.rdb.SAdd(ctx, ActiveSales, saleID).Err(); err != nil {
			return false, fmt.Errorf("list sale %s as active: %w", saleID, err)
		}
	}
	return n == 0, nil
}
