package checkout_test

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill-redisstream/pkg/redisstream"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/redis/go-redis/v9"

	"github.com/foyerhq/foyer/checkout"
	"github.com/foyerhq/foyer/internal/orderstream"
	"github.com/foyerhq/foyer/internal/testenv"
	"github.com/foyerhq/foyer/waitingroom"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// discard keeps the code under test from logging after its test has ended.
var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

const (
	saleID     = "s_checkout"
	priceCents = 1999
	// fence is the fencing token the tests admit under, set by hand in place
	// of the admitter's lease.
	fence = "1"
)

// partitions are the stream partitions the tests' gateways publish to.
var partitions = mustPartitions(orderstream.DefaultPartitions)

func mustPartitions(n int) orderstream.Partitions {
	p, err := orderstream.NewPartitions(n)
	if err != nil {
		panic(err)
	}
	return p
}

// sale is one open sale in a Redis of its own, with a checkout over it that
// publishes through the real Watermill publisher, behind a fault injector.
type sale struct {
	rdb       *redis.Client
	keys      waitingroom.SaleKeys
	admitter  *waitingroom.Admitter
	rooms     *waitingroom.Rooms
	tokens    *checkout.Tokens
	publisher *flakyPublisher
	service   *checkout.Service
}

// openSale loads a sale of stock units into a fresh Redis and opens it, the
// way the admitter's tick would once starts_at has passed.
func openSale(t *testing.T, stock int) *sale {
	t.Helper()
	rdb := testenv.RedisClient(t, testenv.NewRedis(t))
	ctx := t.Context()
	now := time.Now()
	rooms := waitingroom.NewRooms(rdb)
	plan := waitingroom.Plan{
		ID: saleID, SKU: "SKU-1", Name: "Test sale", PriceCents: priceCents, Currency: "EUR", Stock: stock,
		StartsAt: now.Add(-time.Minute), EndsAt: now.Add(time.Hour), OutflowPerSecond: 10, ReservationTTLSeconds: 60,
	}
	if err := rooms.Load(ctx, &plan); err != nil {
		t.Fatal(err)
	}
	k := waitingroom.Keys(saleID)
	if err := rdb.HSet(ctx, k.Meta, "state", string(waitingroom.StateOpen)).Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.Set(ctx, k.Fence, fence, 0).Err(); err != nil {
		t.Fatal(err)
	}
	pub, err := orderstream.NewPublisher(rdb, discard)
	if err != nil {
		t.Fatal(err)
	}
	s := &sale{
		rdb: rdb, keys: k, rooms: rooms, admitter: waitingroom.NewAdmitter(rdb, "node-a", discard),
		tokens: newTokens(t), publisher: &flakyPublisher{Publisher: pub},
	}
	s.service = checkout.NewService(rdb, s.tokens, s.publisher, partitions, discard)
	return s
}

// admit queues the shoppers, in order, and admits them all. Each shopper's
// transaction id is "txn-" and its name.
func (s *sale) admit(t *testing.T, shoppers ...string) []waitingroom.Reservation {
	t.Helper()
	for _, shopper := range shoppers {
		if _, err := s.rooms.Join(t.Context(), saleID, shopper, "txn-"+shopper); err != nil {
			t.Fatal(err)
		}
	}
	admitted, err := s.admitter.Admit(t.Context(), saleID, fence, len(shoppers))
	if err != nil {
		t.Fatal(err)
	}
	if len(admitted) != len(shoppers) {
		t.Fatalf("admitted %d shoppers, want %d", len(admitted), len(shoppers))
	}
	return admitted
}

func (s *sale) token(t *testing.T, r waitingroom.Reservation) string {
	t.Helper()
	return issue(t, s.tokens, saleID, r)
}

// counters are the sale's live stock counters and state.
type counters struct {
	Available, Held, Sold int64
	State                 string
}

func (s *sale) counters(t *testing.T) counters {
	t.Helper()
	v, err := s.rdb.HMGet(t.Context(), s.keys.Meta, "available", "held", "sold", "state").Result()
	if err != nil {
		t.Fatal(err)
	}
	num := func(i int) int64 {
		str, _ := v[i].(string)
		n, err := strconv.ParseInt(str, 10, 64)
		if err != nil {
			t.Fatalf("meta field %d = %v: %v", i, v[i], err)
		}
		return n
	}
	state, _ := v[3].(string)
	return counters{Available: num(0), Held: num(1), Sold: num(2), State: state}
}

// outbox returns the reservation ids waiting in the sale's outbox.
func (s *sale) outbox(t *testing.T) []string {
	t.Helper()
	ids, err := s.rdb.ZRange(t.Context(), s.keys.Outbox, 0, -1).Result()
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

// delivery is one message on the orders topic, as a worker would read it.
type delivery struct {
	UUID    string
	Txn     string
	Payload orderstream.ReservationConfirmed
}

// published reads back every message on the sale's partition of the orders
// stream, decoded by the same unmarshaller the worker's subscriber uses.
func (s *sale) published(t *testing.T) []delivery {
	t.Helper()
	var out []delivery
	for _, msg := range streamMessages(t, s.rdb, partitions.Topic(orderstream.Orders, saleID)) {
		d := delivery{UUID: msg.UUID, Txn: msg.Metadata.Get(orderstream.TxnMetadataKey)}
		if err := json.Unmarshal(msg.Payload, &d.Payload); err != nil {
			t.Fatalf("decode payload of %s: %v", msg.UUID, err)
		}
		out = append(out, d)
	}
	return out
}

// wantDelivery checks that d announces reservation r of the sale, confirmed
// between from and to.
func wantDelivery(t *testing.T, d delivery, r waitingroom.Reservation, from, to time.Time) {
	t.Helper()
	if d.UUID != r.ID || d.Txn != r.Txn {
		t.Errorf("message uuid %q, txn metadata %q; want %q, %q", d.UUID, d.Txn, r.ID, r.Txn)
	}
	p := d.Payload
	want := orderstream.ReservationConfirmed{
		SaleID: saleID, ReservationID: r.ID, ShopperID: r.Shopper, Txn: r.Txn, Quantity: 1, PriceCents: priceCents, Currency: "EUR",
		ConfirmedAt: p.ConfirmedAt,
	}
	if p != want {
		t.Errorf("payload = %+v\nwant      %+v", p, want)
	}
	if p.ConfirmedAt.Before(from.Truncate(time.Millisecond)) || p.ConfirmedAt.After(to) {
		t.Errorf("confirmed at %v, want between %v and %v", p.ConfirmedAt, from, to)
	}
}

// flakyPublisher is the real publisher behind a fault injector: its first
// failures calls fail as if the broker were unreachable.
type flakyPublisher struct {
	message.Publisher

	mu       sync.Mutex
	failures int
}

var errInjected = errors.New("injected: broker unreachable")

func (p *flakyPublisher) failNext(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.failures = n
}

func (p *flakyPublisher) Publish(topic string, msgs ...*message.Message) error {
	p.mu.Lock()
	fail := p.failures > 0
	if fail {
		p.failures--
	}
	p.mu.Unlock()
	if fail {
		return errInjected
	}
	return p.Publisher.Publish(topic, msgs...)
}

// streamMessages reads every Watermill message on a stream, in order.
func streamMessages(t *testing.T, rdb redis.Cmdable, topic string) []*message.Message {
	t.Helper()
	entries, err := rdb.XRange(t.Context(), topic, "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	msgs := make([]*message.Message, len(entries))
	for i, e := range entries {
		if msgs[i], err = (redisstream.DefaultMarshallerUnmarshaller{}).Unmarshal(e.Values); err != nil {
			t.Fatalf("unmarshal stream entry %s: %v", e.ID, err)
		}
	}
	return msgs
}
