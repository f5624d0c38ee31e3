package reconcile

import "testing"

func TestAHoldIsOneAShopperNamesThatHasNoRecord(t *testing.T) {
	named := map[string]string{
		"alice": "r_A_1", // held
		"bob":   "r_A_2", // confirmed: it has a record
		"carol": "r_B_7", // held, but carol has an order: repair names her to it
	}
	records := map[string]string{"r_A_2": `{"status":"confirmed"}`, "r_A_3": `{"status":"cancelled"}`}
	if got := heldReservations(named, records, nil); got != 2 {
		t.Errorf("held = %d, want 2 (alice's and carol's)", got)
	}
	if got := heldReservations(named, records, map[string]bool{"carol": true}); got != 1 {
		t.Errorf("held without carol's = %d, want 1 (alice's)", got)
	}
}
