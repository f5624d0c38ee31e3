package checkout

import (
	"context"
	"errors"
	"fmt"
)

// The shop's own checkout (docs/integration.md): the shop's backend, with a
// shop key, redeems a reservation token it took from its customer once it
// has the money, or releases it when the customer will not buy.

// ErrReservationMismatch refuses a redeem or a release whose path names
// another reservation than the token it carries: a shop's mistake to be
// told, not a token to act on.
var ErrReservationMismatch = errors.New("reservation mismatch: the token is for another reservation than the path names")

// Redemption is the answer to a redeem.
type Redemption struct {
	ReservationID string
	SaleID        string
	ShopperID     string
	OrderRef      string
	Quantity      int
	// Product is the SKU an event's redeem sold; "" in a single-product
	// sale.
	Product string
	// Replayed is true when this request (its Idempotency-Key, see
	// WithIdempotencyKey, and its order reference) had redeemed the
	// reservation already, and is answered again: nothing happened.
	Replayed bool
}

// verifyFor checks a reservation token for the sale and that it is the one of
// reservationID.
func (s *Service) verifyFor(saleID, reservationID, token string) (Verified, error) {
	v, err := s.tokens.VerifyFor(saleID, token)
	if err != nil {
		return Verified{}, err
	}
	if v.Claims().ID != reservationID {
		return Verified{}, fmt.Errorf("%w: %s", ErrReservationMismatch, reservationID)
	}
	return v, nil
}

// Redeem sells the held unit of a reservation whose checkout the shop did
// itself, once: the token must verify for the sale and be reservationID's,
// and the sale's checkout must be the shop's. product is the SKU the shop
// sold: an event's redeem must name one of its products, refused as Foyer's
// checkout refuses (docs/products.md); a single-product sale's takes its
// own sku or "". The order goes to the order workers with the shop's
// orderRef, to be written paid, exactly as a Foyer checkout's (the outbox,
// no oversell, one order row).
func (s *Service) Redeem(ctx context.Context, saleID, reservationID, token, orderRef, product string) (Redemption, error) {
	v, err := s.verifyFor(saleID, reservationID, token)
	if err != nil {
		return Redemption{}, err
	}
	return s.RedeemVerified(ctx, v, orderRef, product)
}

// RedeemVerified is Redeem of a token verified already (Tokens.VerifyFor),
// whose reservation the caller checked is the one it means to redeem.
func (s *Service) RedeemVerified(ctx context.Context, v Verified, orderRef, product string) (Redemption, error) {
	saleID, claims := v.SaleID(), v.Claims()
	if claims == nil {
		return Redemption{}, fmt.Errorf("redeem: %w: not verified", ErrTokenInvalid)
	}
	wc, err := s.rooms.Redeem(ctx, saleID, claims.Subject, claims.ID, keyDigest(ctx), orderRef, product)
	if err != nil {
		return Redemption{}, err
	}
	c := s.deliver(ctx, saleID, confirmed(wc))
	return Redemption{ReservationID: claims.ID, SaleID: saleID, ShopperID: c.Shopper, OrderRef: c.OrderRef,
		Quantity: max(c.Quantity, 1), Replayed: c.Replayed, Product: c.SKU}, nil
}

// Release gives the reservation's held unit back to the sale at once. Its
// token must verify for the sale and be reservationID's. Releasing again
// succeeds and changes nothing; a redeemed reservation is ErrTokenReused.
func (s *Service) Release(ctx context.Context, saleID, reservationID, token string) error {
	v, err := s.verifyFor(saleID, reservationID, token)
	if err != nil {
		return err
	}
	return s.ReleaseVerified(ctx, v)
}

// ReleaseVerified is Release of a token verified already (Tokens.VerifyFor),
// whose reservation the caller checked is the one it means to release.
func (s *Service) ReleaseVerified(ctx context.Context, v Verified) error {
	saleID, claims := v.SaleID(), v.Claims()
	if claims == nil {
		return fmt.Errorf("release: %w: not verified", ErrTokenInvalid)
	}
	again, err := s.rooms.Release(ctx, saleID, claims.Subject, claims.ID)
	if err != nil {
		return err
	}
	s.log.Info("reservation released by the shop", "sale", saleID, "reservation", claims.ID, "again", again)
	return nil
}
