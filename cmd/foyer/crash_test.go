package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/jmoiron/sqlx"
	"github.com/redis/go-redis/v9"

	"github.com/foyerhq/foyer/internal/orderstream"
	"github.com/foyerhq/foyer/internal/testenv"
)

// startWorker runs `foyer worker` as a process with a stable consumer name.
func startWorker(t *testing.T, bin string, env []string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, "worker")
	cmd.Env = append(os.Environ(), env...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd
}

// waitForOrders polls Postgres until the sale has at least n orders, or
// until stall has passed without one more: a worker that has stopped
// writing fails the test, one that is slow on a busy machine does not.
func waitForOrders(t *testing.T, db *sqlx.DB, saleID string, n int, stall time.Duration) int {
	t.Helper()
	last, since := -1, time.Now()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		var got int
		if err := db.Get(&got, `SELECT count(*) FROM orders WHERE sale_id = $1`, saleID); err != nil {
			t.Fatal(err)
		}
		if got > last {
			last, since = got, time.Now()
		}
		if got >= n || time.Since(since) > stall {
			return got
		}
		<-tick.C
	}
}

// TestKillingTheWorkerMidSaleLosesAndDuplicatesNothing publishes 5,000
// confirmed reservations, kills the order worker process with SIGKILL once
// it has written about a thousand, starts it again under the same name, and
// expects exactly 5,000 orders: every reservation once, sold = 5,000.
func TestKillingTheWorkerMidSaleLosesAndDuplicatesNothing(t *testing.T) {
	rs := testenv.NewRedis(t)
	killTheWorkerMidSale(t, rs.URL(), testenv.RedisClient(t, rs))
}

// TestKillingTheWorkerMidSaleLosesAndDuplicatesNothingOnARedisCluster is
// the same on a Redis Cluster of three primaries with a replica each: the
// order streams' partitions spread over its shards.
func TestKillingTheWorkerMidSaleLosesAndDuplicatesNothingOnARedisCluster(t *testing.T) {
	c := testenv.FreshCluster(t)
	killTheWorkerMidSale(t, c.URL(), testenv.ClusterClient(t, c))
}

// killTheWorkerMidSale is the crash test on the Redis at redisURL, which
// rdb reaches.
func killTheWorkerMidSale(t *testing.T, redisURL string, rdb redis.UniversalClient) {
	const orders = 5000
	bin := buildFoyer(t)
	dbURL := testenv.NewDatabase(t)
	db, err := sqlx.Open("postgres", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	saleID := "s_crash"
	_, err = db.Exec(`INSERT INTO sales (id, sku, name, price_cents, stock, starts_at, ends_at, outflow_per_second,
		reservation_ttl_seconds) VALUES ($1, 'K-1', 'Crash', 100, $2, now(), now() + interval '1 hour', 100, 60)`, saleID, orders)
	if err != nil {
		t.Fatal(err)
	}

	pub, err := orderstream.NewPublisher(rdb, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	// The sale's partition under the default count, which the worker reads.
	parts, err := orderstream.NewPartitions(orderstream.DefaultPartitions)
	if err != nil {
		t.Fatal(err)
	}
	topic := parts.Topic(orderstream.Orders, saleID)
	for i := range orders {
		payload, _ := json.Marshal(orderstream.ReservationConfirmed{SaleID: saleID, ReservationID: fmt.Sprintf("r_crash_%05d", i),
			ShopperID: fmt.Sprintf("v_%05d", i), Txn: fmt.Sprintf("t_%05d", i), Quantity: 1, PriceCents: 100,
			ConfirmedAt: time.Now().UTC()})
		if err := pub.Publish(topic, message.NewMessage(fmt.Sprintf("r_crash_%05d", i), payload)); err != nil {
			t.Fatal(err)
		}
	}

	env := []string{"FOYER_REDIS_URL=" + redisURL, "FOYER_DATABASE_URL=" + dbURL, "FOYER_NODE_ID=worker-1", "FOYER_WORKER_METRICS_ADDR=127.0.0.1:0", "FOYER_PAYMENT_WEBHOOK_SECRET=" + testWebhookSecret, "FOYER_PAYMENT_OUTCOME=never",
		"FOYER_WORKER_CLAIM_IDLE=2s", "FOYER_LOG_LEVEL=error"}
	first := startWorker(t, bin, env)
	if got := waitForOrders(t, db, saleID, 1000, 30*time.Second); got < 1000 {
		t.Fatalf("the worker stopped writing at %d orders for 30 s", got)
	}
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	first.Wait()
	var atKill int
	db.Get(&atKill, `SELECT count(*) FROM orders WHERE sale_id = $1`, saleID)

	startWorker(t, bin, env)
	got := waitForOrders(t, db, saleID, orders, 30*time.Second)
	var distinct, sold int
	db.Get(&distinct, `SELECT count(DISTINCT reservation_id) FROM orders WHERE sale_id = $1`, saleID)
	db.Get(&sold, `SELECT sold FROM sales WHERE id = $1`, saleID)
	if got != orders || distinct != orders || sold != orders {
		t.Fatalf("after a kill at %d orders: %d rows, %d distinct, sold %d; want %d each", atKill, got, distinct, sold, orders)
	}
	pending, err := rdb.XPending(context.Background(), topic, orderstream.ConsumerGroup).Result()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("killed at %d of %d orders; after the restart %d rows, %d still pending", atKill, orders, got, pending.Count)
}
