package orderstream

import (
	"fmt"
	"io"
	"log/slog"
	"testing"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/redis/go-redis/v9"

	"github.com/foyerhq/foyer/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// discard keeps the code under test from logging after its test has ended.
var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

// The recorded count only rises: a gateway started with fewer partitions
// must not hide from the workers the ones another still holds messages in.
func TestTheAnnouncedPartitionCountOnlyRises(t *testing.T) {
	rdb := testenv.RedisClient(t, testenv.NewRedis(t))
	if n, err := Highest(t.Context(), rdb); err != nil || n != 0 {
		t.Fatalf("Highest before any announcement = %d, %v; want 0", n, err)
	}
	for _, step := range []struct{ announce, want int }{{4, 4}, {2, 4}, {16, 16}, {1, 16}} {
		p, _ := NewPartitions(step.announce)
		if n, err := Announce(t.Context(), rdb, p); err != nil || n != step.want {
			t.Errorf("Announce(%d) = %d, %v; want %d", step.announce, n, err, step.want)
		}
	}
	if n, err := Highest(t.Context(), rdb); err != nil || n != 16 {
		t.Errorf("Highest = %d, %v; want 16", n, err)
	}
	// Set by hand: past the bound reads as the bound; not a number is an
	// error to readers, and replaced by the next announcement.
	rdb.Set(t.Context(), partitionsKey, 1000, 0)
	if n, err := Highest(t.Context(), rdb); err != nil || n != MaxPartitions {
		t.Errorf("Highest of a record of 1000 = %d, %v; want %d", n, err, MaxPartitions)
	}
	rdb.Set(t.Context(), partitionsKey, "eight", 0)
	if n, err := Highest(t.Context(), rdb); err == nil {
		t.Errorf("Highest of a record that is no number = %d, want an error", n)
	}
	p, _ := NewPartitions(8)
	if n, err := Announce(t.Context(), rdb, p); err != nil || n != 8 {
		t.Errorf("Announce(8) over a record that is no number = %d, %v; want 8", n, err)
	}
}

// The backlog the dashboard and reconcile read counts every partition in
// use and the single stream of before partitions.
func TestTheBacklogCountsEveryPartitionAndTheSingleStreamOfBefore(t *testing.T) {
	rdb := testenv.RedisClient(t, testenv.NewRedis(t))
	ctx := t.Context()
	if n, err := Backlog(ctx, rdb, Orders); err != nil || n != 0 {
		t.Fatalf("Backlog of no stream = %d, %v; want 0", n, err)
	}
	p, _ := NewPartitions(4)
	if _, err := Announce(ctx, rdb, p); err != nil {
		t.Fatal(err)
	}
	pub, err := NewPublisher(rdb, discard)
	if err != nil {
		t.Fatal(err)
	}
	// The workers' group on partitions 1 and 3 and the legacy stream, as a
	// worker makes it when it subscribes; partition 2 has messages but no
	// group yet: a gateway published there before any worker read it, and
	// the group a worker creates reads them from the start.
	for _, topic := range []string{Orders.Partition(1), Orders.Partition(3), Orders.Legacy()} {
		if err := rdb.XGroupCreateMkStream(ctx, topic, ConsumerGroup, "0").Err(); err != nil {
			t.Fatal(err)
		}
	}
	publish := map[string]int{Orders.Partition(1): 2, Orders.Partition(3): 3, Orders.Legacy(): 1, Orders.Partition(2): 5}
	for topic, n := range publish {
		for i := range n {
			if err := pub.Publish(topic, message.NewMessage(fmt.Sprintf("%s-%d", topic, i), []byte("{}"))); err != nil {
				t.Fatal(err)
			}
		}
	}
	if n, err := Backlog(ctx, rdb, Orders); err != nil || n != 11 {
		t.Errorf("Backlog = %d, %v; want 11 (2 + 3 + 1 + 5)", n, err)
	}
	// A worker reads one message of partition 1 and leaves it pending: still
	// backlog until acknowledged.
	if err := rdb.XReadGroup(ctx, &redis.XReadGroupArgs{Group: ConsumerGroup, Consumer: "w1",
		Streams: []string{Orders.Partition(1), ">"}, Count: 1}).Err(); err != nil {
		t.Fatal(err)
	}
	if n, err := Backlog(ctx, rdb, Orders); err != nil || n != 11 {
		t.Errorf("Backlog with one message pending = %d, %v; want 11", n, err)
	}
	if n, err := Backlog(ctx, rdb, Payments); err != nil || n != 0 {
		t.Errorf("Backlog of payments = %d, %v; want 0", n, err)
	}
}
