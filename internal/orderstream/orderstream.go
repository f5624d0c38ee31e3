// Package orderstream owns the Redis streams between the gateways and the
// order workers: their topic names, the messages they carry and how those
// are encoded, the Watermill publisher that writes them, the consumer group
// that reads them, and the poison topic for messages that failed for good.
//
// Its promise: the wire format does not change under a running sale. A
// message published by any earlier version (a lone confirmation, a lone
// payment result) still decodes, so gateways and workers can be upgraded
// one at a time with messages in flight.
package orderstream

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill-redisstream/pkg/redisstream"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/redis/go-redis/v9"
)

// The streams, one Redis stream per Watermill topic.
const (
	// OrdersTopic carries confirmed reservations to the order workers.
	OrdersTopic = "foyer.orders.confirmed"
	// PaymentsTopic carries payment results from the webhook to the order
	// workers, so the gateway never waits on Postgres.
	PaymentsTopic = "foyer.payments.results"
	// PoisonTopic receives messages that failed every retry, for an operator.
	PoisonTopic = "foyer.orders.poison"
)

// ConsumerGroup is the Redis consumer group the order workers share: each
// message goes to one of them.
const ConsumerGroup = "foyer-order-writers"

// TxnMetadataKey is the Watermill metadata key of the shopper's transaction
// id, so middleware and logs can follow one journey without the payload.
const TxnMetadataKey = "txn"

// maxLen caps every stream, so none grows forever: a million messages is
// hours of a busy sale's backlog.
const maxLen = 1_000_000

// NewPublisher returns a Watermill publisher on the streams, each capped.
func NewPublisher(rdb redis.UniversalClient, log *slog.Logger) (message.Publisher, error) {
	pub, err := redisstream.NewPublisher(redisstream.PublisherConfig{
		Client: rdb, DefaultMaxlen: maxLen,
	}, watermill.NewSlogLogger(log))
	if err != nil {
		return nil, fmt.Errorf("stream publisher: %w", err)
	}
	return pub, nil
}

// NewSubscriber returns a subscriber in ConsumerGroup named consumer. The
// name must be stable across restarts, or the messages it had pending wait
// for a claim: another consumer claims a message left unacknowledged for
// claimIdle. The subscriber closes client when it is closed, so give it a
// client of its own, whose blocking reads take no connection from anyone
// else's pool.
func NewSubscriber(client redis.UniversalClient, consumer string, claimIdle time.Duration, log *slog.Logger) (message.Subscriber, error) {
	sub, err := redisstream.NewSubscriber(redisstream.SubscriberConfig{
		Client: client, ConsumerGroup: ConsumerGroup, Consumer: consumer,
		ClaimInterval: claimIdle / 4, MaxIdleTime: claimIdle,
		// Without it the first read blocks forever and shutdown hangs on it.
		DisableIndefiniteInitialBlock: true,
	}, watermill.NewSlogLogger(log))
	if err != nil {
		return nil, fmt.Errorf("order subscriber: %w", err)
	}
	return sub, nil
}

// Backlog counts a topic's messages the order workers have not finished:
// delivered but unacknowledged, or not delivered yet.
func Backlog(ctx context.Context, rdb redis.UniversalClient, topic string) (int64, error) {
	groups, err := rdb.XInfoGroups(ctx, topic).Result()
	if err != nil {
		if err.Error() == "ERR no such key" {
			return 0, nil
		}
		return 0, fmt.Errorf("read stream %s: %w", topic, err)
	}
	var backlog int64
	for _, g := range groups {
		if g.Name == ConsumerGroup {
			backlog = g.Pending + max(g.Lag, 0)
		}
	}
	return backlog, nil
}

// PoisonCount is how many messages sit on PoisonTopic.
func PoisonCount(ctx context.Context, rdb redis.UniversalClient) (int64, error) {
	n, err := rdb.XLen(ctx, PoisonTopic).Result()
	if err != nil {
		return 0, fmt.Errorf("count poison messages: %w", err)
	}
	return n, nil
}
