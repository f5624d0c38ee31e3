package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/foyerhq/foyer/internal/localservers"
	"github.com/foyerhq/foyer/internal/shopperclient"
	"github.com/foyerhq/foyer/internal/testenv"
	"github.com/foyerhq/foyer/waitingroom"
)

// TestAPrimaryKilledMidSaleFailsOverWithNoOversellAndNoConfirmedCheckoutLost
// kills, as a crash would, the Redis Cluster primary that holds a sale's
// slot while its shoppers are being admitted and are checking out. Its
// replica takes over; gateways wait for the replica (FOYER_REDIS_WAIT_REPLICAS
// 1) before telling a shopper "confirmed", and shoppers send a checkout
// that failed on the server's side again with its Idempotency-Key. Every
// checkout answered 200 gets its order, the sale sells exactly its stock and
// no more, every shopper ends with an order or sold out, and the units go
// to the first places of the prequeue's draw: no place was lost.
func TestAPrimaryKilledMidSaleFailsOverWithNoOversellAndNoConfirmedCheckoutLost(t *testing.T) {
	const shoppers, stock = 120, 60
	c := testenv.NewCluster(t, localservers.ClusterOptions{})
	url := "redis+cluster://" + strings.Join(c.Addrs(), ",") + "/"
	sys := startNodesAt(t, url, testenv.ClusterClient(t, c), 2, map[string]string{
		"FOYER_REDIS_WAIT_REPLICAS": "1", "FOYER_REDIS_WAIT_TIMEOUT": "2s",
	})
	saleID := sys.createSale(t, map[string]any{
		"sku": "FAIL-1", "name": "Failover", "price_cents": 700, "stock": stock,
		// Holds outlive the test: with 60 s, on a host slow enough that
		// checkouts were refused not_durable for a minute until the crashed
		// node was back, the 16th place's hold lapsed and its unit went to the
		// 61st, as it should in production, and the draw's check failed.
		"starts_at": startsIn(time.Minute), "outflow_per_second": 30, "reservation_ttl_seconds": 300,
	})
	// The wall is only against a hang, so that one stuck shopper fails this
	// test and not the shard's binary: it takes about 35 s, and took 109 s
	// on a host running three times slow, where a 90 s wall failed it.
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()

	outcomes := make([]failoverOutcome, shoppers)
	var wg sync.WaitGroup
	for i := range outcomes {
		client := shopperclient.New(sys.URLs[i%len(sys.URLs)])
		wg.Go(func() { outcomes[i] = shopThroughFailover(ctx, client, saleID) })
	}

	// Every shopper is in the prequeue before the draw (a slow machine may
	// take more than a second to join them all), then the start is moved
	// to a second away.
	sys.startOncePrequeued(t, ctx, shoppers, saleID)

	// Mid-sale: once a quarter of the stock is confirmed.
	meta := waitingroom.Keys(saleID).Meta
	for sold, _ := sys.Redis.HGet(ctx, meta, "sold").Int(); sold < stock/4; sold, _ = sys.Redis.HGet(ctx, meta, "sold").Int() {
		if ctx.Err() != nil {
			t.Fatal("the sale never got a quarter of the way")
		}
		time.Sleep(5 * time.Millisecond) // polling a condition; the deadline is ctx's
	}
	killed, err := c.KillPrimaryOf(ctx, meta)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("killed %s, the primary of sale %s, mid-sale", killed.Addr, saleID)
	if err := c.Await(ctx); err != nil {
		t.Fatal(err)
	}
	// The replica that took over has no replica of its own: until one is
	// back, no checkout of the sale can be made durable, and each is
	// answered 503 not_durable. The crashed node comes back, as a
	// supervisor would restart it, and follows the new primary.
	if err := killed.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	wg.Wait()

	confirmed := map[string]bool{}
	ordered, soldOut := 0, 0
	for _, o := range outcomes { // every stuck shopper, to tell the one that matters from those behind it
		if o.err != nil {
			t.Error(o.err)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	for _, o := range outcomes {
		for _, r := range o.confirmed {
			confirmed[r] = true
		}
		switch {
		case o.ordered:
			ordered++
		case o.soldOut:
			soldOut++
		}
	}
	if ordered != stock || soldOut != shoppers-stock {
		t.Errorf("%d shoppers ordered and %d heard sold out, want %d and %d", ordered, soldOut, stock, shoppers-stock)
	}
	var rows []string
	if err := sys.DB.Select(&rows, `SELECT reservation_id FROM orders WHERE sale_id = $1`, saleID); err != nil {
		t.Fatal(err)
	}
	var sold int
	if err := sys.DB.Get(&sold, `SELECT sold FROM sales WHERE id = $1`, saleID); err != nil {
		t.Fatal(err)
	}
	if len(rows) != stock || sold != stock {
		t.Errorf("%d orders and sold=%d, want the %d units exactly", len(rows), sold, stock)
	}
	// Every shopper joined in the prequeue, before the kill: the units went
	// to the first places of the draw, so no place was lost, nor a place
	// skipped. The draw is read back from the replica that took over.
	draw, err := waitingroom.NewRooms(sys.Redis).Draw(ctx, saleID)
	if err != nil || len(draw.Tickets) != shoppers {
		t.Fatalf("the draw after the failover: %d tickets (%v), want %d", len(draw.Tickets), err, shoppers)
	}
	first := map[int64]bool{}
	for _, ticket := range draw.Tickets[:stock] {
		first[ticket] = true
	}
	for _, o := range outcomes {
		if o.ordered != first[o.prequeueTicket] {
			t.Errorf("prequeue ticket %d: ordered %v, but it drew place %v of %d units", o.prequeueTicket, o.ordered,
				slices.Index(draw.Tickets, o.prequeueTicket)+1, stock)
		}
	}
	for _, r := range rows {
		delete(confirmed, r)
	}
	if len(confirmed) > 0 {
		t.Errorf("%d checkouts answered 200 have no order: %v", len(confirmed), confirmed)
	}
}

// failoverOutcome is how one shopper's sale ended through the failover.
type failoverOutcome struct {
	confirmed []string // reservations whose checkout was answered 200
	ordered   bool     // an order message with status paid
	soldOut   bool
	err       error
	// prequeueTicket is the ticket the shopper joined the prequeue with.
	prequeueTicket int64
}

// shopThroughFailover walks one shopper through a sale as shop does, but
// as a careful client would through an outage: a checkout that fails on
// the server's side (5xx, or no answer) is sent again with the same
// Idempotency-Key (as is one answered request_in_progress or rate_limited),
// and one refused (the hold lost with the primary) waits for the next
// admission.
func shopThroughFailover(ctx context.Context, c *shopperclient.Client, saleID string) failoverOutcome {
	var o failoverOutcome
	conn, s, err := joinedShopper(ctx, c, saleID)
	if err != nil {
		o.err = err
		return o
	}
	defer conn.CloseNow()
	var told []string // what the shopper was told, for a failure's message
	for {
		m, err := conn.Next(ctx)
		if err != nil {
			o.err = fmt.Errorf("shopper %s (confirmed %v; told %v): %w", s.ShopperID, o.confirmed, told, err)
			return o
		}
		if m.Type != "position" && m.Type != "stock" && m.Type != "pong" {
			told = append(told, m.Type+" "+m.State+m.Status+m.ReservationID)
		}
		switch m.Type {
		case "prequeue":
			o.prequeueTicket = m.Ticket
		case "admitted":
			status, code, err := checkoutUntilAnswered(ctx, m.CheckoutURL, m.Token, "key-"+m.ReservationID)
			if err != nil {
				o.err = fmt.Errorf("shopper %s: %w", s.ShopperID, err)
				return o
			}
			told = append(told, fmt.Sprintf("checkout %d %s", status, code))
			if status == http.StatusOK {
				o.confirmed = append(o.confirmed, m.ReservationID)
			}
		case "state":
			// Sold out leaves no unit held (lib.lua, declare_sold_out): a
			// shopper without a confirmed checkout has none to wait for.
			// One let out on the primary that was killed, whose admission
			// the replica never had, holds a reservation nobody knows:
			// its checkout was refused, and as a tab told it was admitted
			// it hears sold out as this state alone, as the page does.
			if m.State == "sold_out" && len(o.confirmed) == 0 {
				o.soldOut = true
				return o
			}
		case "order":
			if m.Status == "pending_payment" {
				continue
			}
			o.ordered = m.Status == "paid"
			return o
		case "sold_out":
			o.soldOut = true
			return o
		}
	}
}

// checkoutUntilAnswered posts the checkout until it is answered with what
// the protocol does not say to retry, and returns that status and the
// error's code, if any. Retried, as docs/protocol.md's table of codes says:
// the gateway's own failures (5xx, or no answer); request_in_progress, as
// a checkout whose gateway failed mid-way (the primary killed under it)
// may leave its Idempotency-Key claimed for a while; and rate_limited,
// after its Retry-After, as this shopper's retries are charged to its
// budget of checkouts.
func checkoutUntilAnswered(ctx context.Context, url, token, key string) (int, string, error) {
	body, _ := json.Marshal(map[string]any{"token": token, "quantity": 1})
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			return 0, "", err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", key)
		wait := 100 * time.Millisecond // a client's backoff before it tries again
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			var refused struct {
				Error struct{ Code string } `json:"error"`
			}
			_ = json.NewDecoder(resp.Body).Decode(&refused) // a 200's body has no error
			resp.Body.Close()
			code := refused.Error.Code
			if resp.StatusCode < 500 && code != "request_in_progress" && code != "rate_limited" {
				return resp.StatusCode, code, nil
			}
			if after, _ := strconv.Atoi(resp.Header.Get("Retry-After")); after > 0 {
				wait = time.Duration(after) * time.Second
			}
		}
		select {
		case <-ctx.Done():
			return 0, "", fmt.Errorf("checkout never answered: %w (last: %v)", ctx.Err(), err)
		case <-time.After(wait):
		}
	}
}
