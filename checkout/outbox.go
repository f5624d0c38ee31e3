package checkout

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/foyerhq/foyer/internal/salekeys"
)

// OutboxRelay publishes confirmations left in the outbox by a node that died,
// or failed to publish, between confirming and publishing. Every node may run
// one: publishing twice is harmless.
type OutboxRelay struct {
	service *Service
	// Every is how often the relay looks. Defaults to 1s.
	Every time.Duration
	// Age is how old an outbox entry must be before the relay takes it, so it
	// does not race the node that is publishing it right now. Defaults to 3s.
	Age time.Duration
	// Batch bounds the entries taken per sale per look. Defaults to 500.
	Batch int64
}

// NewOutboxRelay returns a relay with the defaults documented on its fields.
func NewOutboxRelay(s *Service) *OutboxRelay {
	return &OutboxRelay{service: s, Every: time.Second, Age: 3 * time.Second, Batch: 500}
}

// Run relays until ctx ends; a failed round is logged and retried.
func (o *OutboxRelay) Run(ctx context.Context) error {
	t := time.NewTicker(o.Every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if _, err := o.RelayOnce(ctx); err != nil && ctx.Err() == nil {
				o.service.log.Warn("outbox relay failed", "err", err)
			}
		}
	}
}

// RelayOnce publishes every outbox entry older than Age, and returns how many.
func (o *OutboxRelay) RelayOnce(ctx context.Context) (int, error) {
	rdb := o.service.rdb
	ids, err := rdb.SMembers(ctx, salekeys.Active).Result()
	if err != nil {
		return 0, fmt.Errorf("list active sales: %w", err)
	}
	var relayed int
	var errs []error
	for _, saleID := range ids {
		n, err := o.relaySale(ctx, rdb, saleID)
		relayed += n
		if err != nil {
			errs = append(errs, err)
		}
	}
	return relayed, errors.Join(errs...)
}

func (o *OutboxRelay) relaySale(ctx context.Context, rdb redis.UniversalClient, saleID string) (int, error) {
	k := salekeys.For(saleID)
	before := time.Now().Add(-o.Age).UnixMilli()
	ids, err := rdb.ZRangeByScore(ctx, k.Outbox, &redis.ZRangeBy{
		Min: "-inf", Max: strconv.FormatInt(before, 10), Count: o.Batch,
	}).Result()
	if err != nil || len(ids) == 0 {
		return 0, err
	}
	raws, err := rdb.HMGet(ctx, k.Res, ids...).Result()
	if err != nil {
		return 0, fmt.Errorf("read outbox reservations of sale %s: %w", saleID, err)
	}
	price, err := rdb.HGet(ctx, k.Meta, "price_cents").Int64()
	if err != nil {
		return 0, fmt.Errorf("read price of sale %s: %w", saleID, err)
	}
	currency, err := rdb.HGet(ctx, k.Meta, "currency").Result()
	if err != nil {
		return 0, fmt.Errorf("read currency of sale %s: %w", saleID, err)
	}
	var relayed int
	for i, raw := range raws {
		s, _ := raw.(string)
		var c confirmed
		if err := json.Unmarshal([]byte(s), &c); err != nil {
			// A reservation that cannot be read can never be published: drop
			// it loudly rather than block the outbox behind it for good.
			o.service.log.Error("outbox entry without a readable reservation; dropped",
				"sale", saleID, "reservation", ids[i], "err", err)
			rdb.ZRem(ctx, k.Outbox, ids[i])
			continue
		}
		c.PriceCents, c.Currency = price, currency
		if err := o.service.publish(ctx, saleID, c); err != nil {
			return relayed, err
		}
		relayed++
	}
	return relayed, nil
}
