package server

import (
	"strings"
	"testing"
	"time"

	"github.com/foyerhq/foyer/waitingroom"
)

// TestThePageWithoutScriptTellsEachStateInWords renders the <noscript>
// account of a sale in each state: its words, its times in UTC, and what
// is held, so a shopper without script is not left with "Loading…".
func TestThePageWithoutScriptTellsEachStateInWords(t *testing.T) {
	at := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	base := waitingroom.Status{SaleID: "s_1", Name: "Runner", StartsAt: at, EndsAt: at.Add(time.Hour),
		PrequeueAt: at.Add(-15 * time.Minute), Stock: 10, Available: 4, Held: 2, Sold: 4}
	tests := []struct {
		state     waitingroom.State
		available int64
		held      int64
		want      []string
		notWant   string // "" checks nothing
	}{
		{waitingroom.StateScheduled, 10, 0, []string{"not open yet", "The queue opens 27 Nov 2026, 08:45 UTC", "starts 27 Nov 2026, 09:00 UTC"}, ""},
		{waitingroom.StatePrequeue, 10, 0, []string{"fair draw", "starts 27 Nov 2026, 09:00 UTC"}, ""},
		{waitingroom.StateOpen, 4, 2, []string{"The sale is open.", "4 of 10 left.", "ends 27 Nov 2026, 10:00 UTC"}, ""},
		{waitingroom.StateOpen, 0, 2, []string{"Every unit is held", "may come back"}, ""},
		{waitingroom.StatePaused, 4, 2, []string{"paused"}, ""},
		{waitingroom.StateSoldOut, 0, 0, []string{"Sold out."}, "come back"},
		{waitingroom.StateSoldOut, 0, 1, []string{"Sold out.", "may come back"}, ""},
		{waitingroom.StateEnded, 0, 0, []string{"This sale has ended."}, ""},
	}
	for _, tt := range tests {
		st := base
		st.State, st.Available, st.Held = tt.state, tt.available, tt.held
		v := describeSale(st, "https://shop.example/")
		got := strings.Join([]string{v.Name, v.State, v.When, v.Stock, v.JSON, v.Shop}, " | ")
		for _, want := range tt.want {
			if !strings.Contains(got, want) {
				t.Errorf("%s, %d left, %d held: %q lacks %q", tt.state, tt.available, tt.held, got, want)
			}
		}
		if tt.notWant != "" && strings.Contains(got, tt.notWant) {
			t.Errorf("%s, %d left, %d held: %q says %q", tt.state, tt.available, tt.held, got, tt.notWant)
		}
		if v.JSON != "/v1/sales/s_1" || v.Name != "Runner" {
			t.Errorf("%s: name %q, data at %q", tt.state, v.Name, v.JSON)
		}
	}
}
