package reconcile

// heldReservations counts a sale's held reservations: a reservation is held
// while its shopper's entry in shoppers names it and res has no record of
// it (records are written at confirm and refund; admit.lua keeps a batch's
// holds as one record). named is the shoppers hash, records the res hash;
// the holds of the shoppers in except are not counted.
func heldReservations(named, records map[string]string, except map[string]bool) int64 {
	var held int64
	for shopper, id := range named {
		if _, recorded := records[id]; !recorded && !except[shopper] {
			held++
		}
	}
	return held
}
