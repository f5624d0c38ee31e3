// Package checkout turns an admitted shopper's reservation into a sale: it
// issues and verifies reservation tokens, takes idempotency keys, asks
// waitingroom to confirm the reservation (exactly once), and hands the
// confirmation to the order workers through Watermill.
//
// Its promise: a checkout answered "confirmed" reaches the order workers even
// if this node dies right after answering. waitingroom writes the confirmation
// and an outbox entry in one Redis script; checkout publishes the outbox
// (OutboxRelay) until it is empty.
package checkout

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/redis/go-redis/v9"

	"github.com/foyerhq/foyer/internal/orderstream"
	"github.com/foyerhq/foyer/waitingroom"
)

// Service confirms reservations.
type Service struct {
	rdb       redis.UniversalClient // the batcher clears many sales' outbox entries per round trip
	rooms     *waitingroom.Rooms    // confirms, and keeps the outbox
	tokens    *Tokens
	publisher message.Publisher
	// partitions says which partition of orderstream.Orders a sale's
	// confirmations go to.
	partitions orderstream.Partitions
	log        *slog.Logger
	batcher    *batcher // with BatchedBy: confirmations go out in batches
}

// NewService returns a checkout that publishes confirmations with publisher
// (an orderstream publisher) to each sale's partition of partitions,
// configured by opts.
func NewService(rdb redis.UniversalClient, tokens *Tokens, publisher message.Publisher, partitions orderstream.Partitions,
	log *slog.Logger, opts ...Option) *Service {
	s := &Service{rdb: rdb, rooms: waitingroom.NewRooms(rdb), tokens: tokens, publisher: publisher,
		partitions: partitions, log: log}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Receipt is the answer to a successful checkout.
type Receipt struct {
	ReservationID string
	Status        string // "confirmed": the order is on its way to Postgres
	Quantity      int
	// Shopper, AdmittedAt and ConfirmedAt say who checked out and how long
	// after admission, both times by Redis's clock (the defences' signal
	// fast_checkout).
	Shopper     string
	AdmittedAt  time.Time
	ConfirmedAt time.Time
	// Replayed is true when this request (its idempotency key, see
	// WithIdempotencyKey) had confirmed the reservation already, and is
	// answered again: nothing happened this time.
	Replayed bool
	// SKU is the product an event's checkout bought; "" in a
	// single-product sale.
	SKU string
}

// Checkout verifies a reservation token for the sale and confirms its
// reservation for quantity units (the held one and, up to the sale's
// per-shopper limit, more from those still available). A token confirms
// once; a second use gets ErrTokenReused.
func (s *Service) Checkout(ctx context.Context, saleID, token string, quantity int) (Receipt, error) {
	v, err := s.tokens.VerifyFor(saleID, token)
	if err != nil {
		return Receipt{}, err
	}
	return s.CheckoutVerified(ctx, v, "", quantity)
}

// CheckoutVerified is Checkout of a token verified already (Tokens.VerifyFor),
// of the product the shopper chose: an event's checkout must name one of its
// products (docs/products.md); a single-product sale's takes its own sku or "".
func (s *Service) CheckoutVerified(ctx context.Context, v Verified, product string, quantity int) (Receipt, error) {
	saleID, claims := v.SaleID(), v.Claims()
	if claims == nil {
		return Receipt{}, fmt.Errorf("checkout: %w: not verified", ErrTokenInvalid)
	}
	wc, err := s.rooms.ConfirmProduct(ctx, saleID, claims.Subject, claims.ID, product, quantity, keyDigest(ctx))
	if err != nil {
		return Receipt{}, err
	}
	c := s.deliver(ctx, saleID, confirmed(wc))
	return Receipt{ReservationID: claims.ID, Status: "confirmed", Quantity: max(c.Quantity, 1),
		Shopper: c.Shopper, AdmittedAt: time.UnixMilli(c.AdmittedAt), ConfirmedAt: time.UnixMilli(c.ConfirmedAt),
		Replayed: c.Replayed, SKU: c.SKU}, nil
}

// deliver hands a confirmation to the order workers, unless it is a replay
// (published by the request that confirmed it, or by the outbox). From the
// confirmation on the checkout has happened: a failed publish is retried by
// the outbox, not reported to the client as a failure.
func (s *Service) deliver(ctx context.Context, saleID string, c confirmed) confirmed {
	if c.Replayed {
		s.log.Info("reservation confirmed earlier by this request; answered again", "sale", saleID,
			"reservation", c.Reservation, "txn", c.Txn)
		return c
	}
	if s.batcher == nil || !s.batcher.add(saleID, c) {
		if err := s.publish(ctx, saleID, c); err != nil {
			s.log.Warn("publish confirmation failed; the outbox will retry", "sale", saleID,
				"reservation", c.Reservation, "txn", c.Txn, "err", err)
		}
	}
	s.log.Info("reservation confirmed", "sale", saleID, "shopper", c.Shopper, "reservation", c.Reservation, "txn", c.Txn,
		"redeemed", c.OrderRef != "")
	return c
}

// confirmed is a confirmation as waitingroom returns it, for checkout to
// publish.
type confirmed waitingroom.Confirmation

// publish sends one confirmation to the order workers and takes it out of the
// outbox. The message id is the reservation id, and the worker is idempotent
// by it, so publishing twice is harmless and publishing zero times is not.
func (s *Service) publish(ctx context.Context, saleID string, c confirmed) error {
	msg, err := orderstream.ConfirmationMessage(c.message(saleID))
	if err != nil {
		return err
	}
	if err := s.publisher.Publish(s.partitions.Topic(orderstream.Orders, saleID), msg); err != nil {
		return fmt.Errorf("publish confirmation %s: %w", c.Reservation, err)
	}
	return s.rooms.ClearOutbox(ctx, saleID, c.Reservation)
}

// message is the confirmation as the order workers read it.
func (c confirmed) message(saleID string) orderstream.ReservationConfirmed {
	return orderstream.ReservationConfirmed{
		SaleID: saleID, ReservationID: c.Reservation, ShopperID: c.Shopper, Txn: c.Txn,
		Quantity: max(c.Quantity, 1), PriceCents: c.PriceCents, Currency: c.Currency,
		ConfirmedAt:  time.UnixMilli(c.ConfirmedAt).UTC(),
		ShopOrderRef: c.OrderRef, CustomerID: c.Customer, SKU: c.SKU,
	}
}
