package checkout

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/foyerhq/foyer/waitingroom"
)

// PaymentSecrets keeps the client secrets of pending orders (a Stripe
// PaymentIntent's) in Redis beside their sales, one key per reservation,
// each expiring after its TTL: a shopper's page reloaded while paying is
// told the secret again (the order worker keeps it, the gateway reads it),
// where the order's announcement reached only the tabs open at the time.
// Never in Postgres, as Stripe asks; never logged.
type PaymentSecrets struct {
	rdb redis.UniversalClient
	// TTL is how long a secret is kept. Defaults to 0: NewPaymentSecrets's
	// ttl; the worker passes twice the payment timeout, by when the order
	// is settled whatever happens (and a secret is told only with an order
	// still pending_payment).
	TTL time.Duration
}

// NewPaymentSecrets keeps secrets in rdb for ttl.
func NewPaymentSecrets(rdb redis.UniversalClient, ttl time.Duration) *PaymentSecrets {
	return &PaymentSecrets{rdb: rdb, TTL: ttl}
}

func paymentSecretKey(saleID, reservationID string) string {
	return waitingroom.Keys(saleID).Beside("paysecret:" + reservationID)
}

// Keep stores the secrets of a sale's pending orders, by reservation id, in
// one round trip. A redelivered order keeps the same secret again.
func (s *PaymentSecrets) Keep(ctx context.Context, saleID string, secrets map[string]string) error {
	if len(secrets) == 0 {
		return nil
	}
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for reservationID, secret := range secrets {
			p.Set(ctx, paymentSecretKey(saleID, reservationID), secret, s.TTL)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("keep %d payment secrets of sale %s: %w", len(secrets), saleID, err)
	}
	return nil
}

// Get returns the secret kept for a reservation's order, "" when none is
// (none was made, or it expired).
func (s *PaymentSecrets) Get(ctx context.Context, saleID, reservationID string) (string, error) {
	secret, err := s.rdb.Get(ctx, paymentSecretKey(saleID, reservationID)).Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read the payment secret of reservation %s of sale %s: %w", reservationID, saleID, err)
	}
	return secret, nil
}
