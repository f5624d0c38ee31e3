// Package orderstream owns the Redis streams between the gateways and the
// order workers: their partitions and the keys they are kept under, which
// partition a sale's messages go to, the messages they carry and how those
// are encoded, the Watermill publisher that writes them, the consumer group
// that reads them, and the poison topic for messages that failed for good.
//
// Its promises: the wire format does not change under a running sale. A
// message published by any earlier version (a lone confirmation, a lone
// payment result) still decodes, so gateways and workers can be upgraded
// one at a time with messages in flight; and nothing published to a
// partition is left unread when the partition count changes, because the
// count recorded in Redis (Announce) only rises and workers read every
// partition up to it.
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

// PoisonTopic receives messages that failed every retry, for an operator.
// One for every partition of both streams: a poison message is rare and
// read by a person, who then looks in one place, and Watermill records the
// partition it came from in its metadata (topic_poisoned). Its name is the
// one of before partitions, so poison messages of earlier versions stay
// where operators find them.
const PoisonTopic = "foyer.orders.poison"

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

// Backlog counts the messages of a stream the order workers have not
// finished, over every partition in use and the legacy stream: delivered
// but unacknowledged, or not delivered yet. A partition the workers have not
// subscribed to yet counts all its messages: their group, when they
// subscribe, reads it from the start. One round trip for the count of
// partitions, one pipeline for the partitions.
func Backlog(ctx context.Context, rdb redis.UniversalClient, s Stream) (int64, error) {
	highest, err := Highest(ctx, rdb)
	if err != nil {
		return 0, err
	}
	topics := s.Topics(highest)
	groups := make([]*redis.XInfoGroupsCmd, len(topics))
	lengths := make([]*redis.IntCmd, len(topics))
	// Errors are read per command below: a partition nobody published to
	// yet has no key, and that is no error.
	_, _ = rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, topic := range topics {
			groups[i], lengths[i] = p.XInfoGroups(ctx, topic), p.XLen(ctx, topic)
		}
		return nil
	})
	var backlog int64
	for i := range topics {
		n, err := topicBacklog(groups[i], lengths[i])
		if err != nil {
			return 0, fmt.Errorf("read stream %s: %w", topics[i], err)
		}
		backlog += n
	}
	return backlog, nil
}

// topicBacklog is one stream's part of Backlog.
func topicBacklog(groups *redis.XInfoGroupsCmd, length *redis.IntCmd) (int64, error) {
	pending, lag, err := groupState(groups, length)
	return pending + lag, err
}

// PoisonCount is how many messages sit on PoisonTopic.
func PoisonCount(ctx context.Context, rdb redis.UniversalClient) (int64, error) {
	n, err := rdb.XLen(ctx, PoisonTopic).Result()
	if err != nil {
		return 0, fmt.Errorf("count poison messages: %w", err)
	}
	return n, nil
}
