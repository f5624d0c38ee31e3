package server

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/foyerhq/foyer/waitingroom"
)

func TestTheOperatorsErrorsFindTheirProblem(t *testing.T) {
	cases := []struct {
		err    error
		status int
		code   string
	}{
		{fmt.Errorf("get reservation r_x_1 of sale s_1: %w", waitingroom.ErrReservationUnknown),
			http.StatusNotFound, "reservation_unknown"},
		{fmt.Errorf("create sale: %w", waitingroom.ErrIdempotencyKeyReused),
			http.StatusUnprocessableEntity, "idempotency_key_reused"},
	}
	for _, tc := range cases {
		if p := problemFor(tc.err); p.status != tc.status || p.code != tc.code {
			t.Errorf("problemFor(%v) = %d %s, want %d %s", tc.err, p.status, p.code, tc.status, tc.code)
		}
	}
}
