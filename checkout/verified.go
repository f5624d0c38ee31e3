package checkout

// Verified is a reservation token that verified for its sale. Only
// Tokens.VerifyFor makes one, so a checkout handed one acts on it without
// verifying it again: the gateway verifies a checkout's token before it
// claims an idempotency key (junk claims none), and an Ed25519 verification
// is the costliest step of the gateway's own work on a checkout.
type Verified struct {
	saleID    string
	claims    *ReservationClaims
	firstHere bool
}

// SaleID is the sale the token verified for.
func (v Verified) SaleID() string { return v.saleID }

// Claims are the token's claims. The caller must not change them.
func (v Verified) Claims() *ReservationClaims { return v.claims }

// FirstHere reports that the token is one this node signed, presented
// here for the first time: the one checkout of its reservation that a
// shopper's honest path makes. Only the first presentation of a token is
// first, however many arrive at once.
func (v Verified) FirstHere() bool { return v.firstHere }

// VerifyFor checks a token for the sale, as Verify does, and returns it
// verified.
func (t *Tokens) VerifyFor(saleID, token string) (Verified, error) {
	c, first, err := t.verify(saleID, token)
	if err != nil {
		return Verified{}, err
	}
	return Verified{saleID: saleID, claims: c, firstHere: first}, nil
}
