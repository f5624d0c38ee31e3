package app_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/redis/go-redis/v9"

	"github.com/foyerhq/foyer/internal/orderstream"
)

// TestAPoisonMessageIsSetAsideAndShownToOperators publishes a confirmation
// no worker can read: it goes to the poison topic instead of blocking the
// stream, and the admin API counts it.
func TestAPoisonMessageIsSetAsideAndShownToOperators(t *testing.T) {
	sys := startSystem(t)
	pub, err := orderstream.NewPublisher(sys.Redis, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := pub.Publish(orderstream.Orders.Partition(0), message.NewMessage("garbage-1", []byte("not a confirmation"))); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Wait on the poison stream itself for the message to land.
	if _, err := sys.Redis.XRead(ctx, &redis.XReadArgs{Streams: []string{orderstream.PoisonTopic, "0"}, Block: 20 * time.Second}).Result(); err != nil {
		t.Fatalf("nothing reached the poison topic: %v", err)
	}
	var status struct {
		Poison  int64 `json:"poison_messages"`
		Backlog int64 `json:"orders_backlog"`
	}
	if code := sys.call(t, http.MethodGet, "/v1/admin/pipeline", sys.AdminToken, nil, &status); code != http.StatusOK {
		t.Fatalf("pipeline: %d", code)
	}
	if status.Poison != 1 {
		t.Errorf("operators see %d poison messages, want 1", status.Poison)
	}
}

// streamLength is how many messages a stream holds over every partition a
// gateway may publish to and the single stream of before partitions.
func streamLength(t *testing.T, rdb redis.UniversalClient, s orderstream.Stream) int64 {
	t.Helper()
	var n int64
	for _, topic := range s.Topics(orderstream.MaxPartitions) {
		l, err := rdb.XLen(t.Context(), topic).Result()
		if err != nil {
			t.Fatalf("length of %s: %v", topic, err)
		}
		n += l
	}
	return n
}
