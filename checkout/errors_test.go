package checkout_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/foyerhq/foyer/checkout"
	"github.com/foyerhq/foyer/waitingroom"
)

// waitingroom confirms and names the errors of confirming; checkout's names
// for them are the same values, so a caller may test either.
func TestConfirmErrorsMatchUnderCheckoutsNamesAndWaitingroomsAlike(t *testing.T) {
	for _, c := range []struct{ checkout, waitingroom error }{
		{checkout.ErrTokenReused, waitingroom.ErrReservationConfirmed},
		{checkout.ErrReservationExpired, waitingroom.ErrReservationExpired},
		{checkout.ErrUnknownReservation, waitingroom.ErrReservationUnknown},
		{checkout.ErrOverLimit, waitingroom.ErrOverLimit},
		{checkout.ErrNotEnoughStock, waitingroom.ErrNotEnoughStock},
	} {
		err := fmt.Errorf("confirm reservation r_x_1 of sale s_1: %w", c.waitingroom)
		if !errors.Is(err, c.checkout) {
			t.Errorf("%v is not %v", err, c.checkout)
		}
	}
}
