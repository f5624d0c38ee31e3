package checkout

// Verified is a reservation token that verified for its sale. Only
// Tokens.VerifyFor makes one, so a checkout handed one acts on it without
// verifying it again: the gateway verifies a checkout's token before it
// claims an idempotency key (junk claims none), and an Ed25519 verification
// is the costliest step of the gateway's own work on a checkout.
type Verified struct {
	saleID string
	claims *ReservationClaims
}

// SaleID is the sale the token verified for.
func (v Verified) SaleID() string { return v.saleID }

// Claims are the token's claims. The caller must not change them.
func (v Verified) Claims() *ReservationClaims { return v.claims }

// VerifyFor checks a token for the sale, as Verify does, and returns it
// verified.
func (t *Tokens) VerifyFor(saleID, token string) (Verified, error) {
	c, err := t.Verify(saleID, token)
	if err != nil {
		return Verified{}, err
	}
	return Verified{saleID: saleID, claims: c}, nil
}
