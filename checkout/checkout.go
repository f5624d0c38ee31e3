// Package checkout turns an admitted shopper's reservation into a sale: it
// issues and verifies reservation tokens, confirms a reservation exactly once,
// and hands the confirmation to the order workers through Watermill.
//
// Its promise: a checkout answered "confirmed" reaches the order workers even
// if this node dies right after answering. The confirmation and an outbox entry
// are written by one Redis script; the outbox is published until it is empty.
package checkout

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/redis/go-redis/v9"

	"github.com/foyerhq/foyer/internal/orderstream"
	"github.com/foyerhq/foyer/internal/salekeys"
)

var (
	//go:embed lua/confirm.lua
	confirmLua    string
	confirmScript = redis.NewScript(confirmLua)
)

// Service confirms reservations.
type Service struct {
	rdb       redis.UniversalClient
	tokens    *Tokens
	publisher message.Publisher
	log       *slog.Logger
	batcher   *batcher // with BatchedBy: confirmations go out in batches
}

// NewService returns a checkout that publishes confirmations with publisher
// (an orderstream publisher), configured by opts.
func NewService(rdb redis.UniversalClient, tokens *Tokens, publisher message.Publisher, log *slog.Logger, opts ...Option) *Service {
	s := &Service{rdb: rdb, tokens: tokens, publisher: publisher, log: log}
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
}

// Checkout verifies a reservation token for the sale and confirms its
// reservation for quantity units (the held one and, up to the sale's
// per-shopper limit, more from those still available). A token confirms
// once; a second use gets ErrTokenReused.
func (s *Service) Checkout(ctx context.Context, saleID, token string, quantity int) (Receipt, error) {
	claims, err := s.tokens.Verify(saleID, token)
	if err != nil {
		return Receipt{}, err
	}
	k := salekeys.For(saleID)
	raw, err := confirmScript.Run(ctx, s.rdb, []string{k.Meta, k.Res, k.Batches, k.Outbox, k.Events, k.Shoppers, k.Journeys},
		claims.ID, claims.Subject, salekeys.EventsMaxLen, quantity, keyDigest(ctx)).Text()
	if err != nil {
		return Receipt{}, fmt.Errorf("confirm reservation %s of sale %s: %w", claims.ID, saleID, confirmError(err))
	}
	var c confirmed
	if err := json.Unmarshal([]byte(raw), &c); err != nil {
		return Receipt{}, fmt.Errorf("decode confirmation %s: %w", claims.ID, err)
	}
	receipt := Receipt{ReservationID: claims.ID, Status: "confirmed", Quantity: max(c.Quantity, 1),
		Shopper: c.Shopper, AdmittedAt: time.UnixMilli(c.AdmittedAt), ConfirmedAt: time.UnixMilli(c.ConfirmedAt),
		Replayed: c.Replayed}
	if c.Replayed {
		// Published by the request that confirmed it, or by the outbox.
		s.log.Info("reservation confirmed earlier by this request; answered again", "sale", saleID,
			"reservation", claims.ID, "txn", c.Txn)
		return receipt, nil
	}
	// From here on the checkout has happened: a failed publish is retried by
	// the outbox, not reported to the shopper as a failure.
	if s.batcher == nil || !s.batcher.add(saleID, c) {
		if err := s.publish(ctx, saleID, c); err != nil {
			s.log.Warn("publish confirmation failed; the outbox will retry", "sale", saleID,
				"reservation", claims.ID, "txn", c.Txn, "err", err)
		}
	}
	s.log.Info("reservation confirmed", "sale", saleID, "reservation", claims.ID, "txn", c.Txn)
	return receipt, nil
}

// confirmed is the reservation as confirm.lua returns it.
type confirmed struct {
	Reservation string `json:"reservation"`
	Shopper     string `json:"shopper"`
	Txn         string `json:"txn"`
	PriceCents  int64  `json:"price_cents"`
	ConfirmedAt int64  `json:"confirmed_at"`
	AdmittedAt  int64  `json:"admitted_at"`
	Quantity    int    `json:"quantity"`
	Currency    string `json:"currency"`
	Replayed    bool   `json:"replayed"`
}

// publish sends one confirmation to the order workers and takes it out of the
// outbox. The message id is the reservation id, and the worker is idempotent
// by it, so publishing twice is harmless and publishing zero times is not.
func (s *Service) publish(ctx context.Context, saleID string, c confirmed) error {
	msg, err := orderstream.ConfirmationMessage(c.message(saleID))
	if err != nil {
		return err
	}
	if err := s.publisher.Publish(orderstream.OrdersTopic, msg); err != nil {
		return fmt.Errorf("publish confirmation %s: %w", c.Reservation, err)
	}
	if err := s.rdb.ZRem(ctx, salekeys.For(saleID).Outbox, c.Reservation).Err(); err != nil {
		return fmt.Errorf("clear outbox entry %s: %w", c.Reservation, err)
	}
	return nil
}

// message is the confirmation as the order workers read it.
func (c confirmed) message(saleID string) orderstream.ReservationConfirmed {
	return orderstream.ReservationConfirmed{
		SaleID: saleID, ReservationID: c.Reservation, ShopperID: c.Shopper, Txn: c.Txn,
		Quantity: max(c.Quantity, 1), PriceCents: c.PriceCents, Currency: c.Currency,
		ConfirmedAt: time.UnixMilli(c.ConfirmedAt).UTC(),
	}
}

func confirmError(err error) error {
	switch salekeys.ReplyCode(err) {
	case "UNKNOWN_RESERVATION":
		return ErrUnknownReservation
	case "TOKEN_REUSED":
		return ErrTokenReused
	case "RESERVATION_EXPIRED":
		return ErrReservationExpired
	case "OVER_LIMIT":
		return ErrOverLimit
	case "NOT_ENOUGH_STOCK":
		return ErrNotEnoughStock
	}
	return err
}
