package server

import (
	"slices"
	"testing"
	"time"

	"github.com/foyerhq/foyer/checkout"
	"github.com/foyerhq/foyer/waitingroom"
)

func TestAJoinShowsEarlyJoinOnlyWithAPlaceRightAfterTheStart(t *testing.T) {
	sg := Signals{EarlyJoin: 100 * time.Millisecond, SessionsPerIP: 20}
	start := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	waiting, prequeued := waitingroom.Place{Ticket: 7, Position: 7}, waitingroom.Place{Prequeue: 7}
	for _, tc := range []struct {
		name       string
		place      waitingroom.Place
		after      time.Duration
		ipSessions int64
		signals    Signals
		want       []string
	}{
		{"a place right after the start", waiting, 40 * time.Millisecond, 1, sg, []string{waitingroom.SignalEarlyJoin}},
		{"a place past the threshold", waiting, 100 * time.Millisecond, 1, sg, nil},
		{"a prequeue ticket", prequeued, 40 * time.Millisecond, 1, sg, nil},
		{"a reservation found again", waitingroom.Place{Reservation: "r_1"}, 40 * time.Millisecond, 1, sg, nil},
		{"as many sessions as allowed", waiting, time.Minute, 20, sg, nil},
		{"one session more", waiting, time.Minute, 21, sg, []string{waitingroom.SignalManyIdentities}},
		{"a session not counted", waiting, time.Minute, 0, sg, nil},
		{"both", waiting, 0, 50, sg, []string{waitingroom.SignalEarlyJoin, waitingroom.SignalManyIdentities}},
		{"both off", waiting, 0, 50, Signals{}, nil},
	} {
		got := tc.signals.forJoin(tc.place, start, start.Add(tc.after), tc.ipSessions)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestACheckoutIsFastOnlyUnderTheThresholdAfterAdmission(t *testing.T) {
	sg := Signals{FastCheckout: 800 * time.Millisecond}
	admitted := time.UnixMilli(1795770000000)
	receipt := func(after time.Duration) checkout.Receipt {
		return checkout.Receipt{Shopper: "v_1", AdmittedAt: admitted, ConfirmedAt: admitted.Add(after)}
	}
	for _, tc := range []struct {
		name    string
		r       checkout.Receipt
		signals Signals
		want    bool
	}{
		{"300 ms after admission", receipt(300 * time.Millisecond), sg, true},
		{"at the threshold", receipt(800 * time.Millisecond), sg, false},
		{"a minute after", receipt(time.Minute), sg, false},
		{"off", receipt(0), Signals{}, false},
		{"no admission time", checkout.Receipt{Shopper: "v_1", AdmittedAt: time.UnixMilli(0), ConfirmedAt: admitted}, sg, false},
	} {
		if got := tc.signals.fastCheckout(tc.r); got != tc.want {
			t.Errorf("%s: fast %v, want %v", tc.name, got, tc.want)
		}
	}
}
