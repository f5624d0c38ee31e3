package fanout

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/errgroup"

	"github.com/foyerhq/foyer/checkout"
	"github.com/foyerhq/foyer/internal/keyring"
	"github.com/foyerhq/foyer/internal/testenv"
	"github.com/foyerhq/foyer/internal/wire"
	"github.com/foyerhq/foyer/waitingroom"
)

// TestADrawOfFifteenThousandShoppersDelaysNoSocketOpening: a sale's draw
// reads the tickets of every prequeue shopper on the node from Redis (a
// round trip per thousand) and tells each its position. It used to do that
// holding the room's lock, and the hub's lock waited behind it (the room's
// own once-a-second tick retires idle rooms holding the hub's lock, then
// takes the room's), so one sale's draw stalled the socket openings of every
// sale on the node.
//
// How the test shows it without timing anything: 15,000 shoppers really
// join the sale's prequeue in Redis, and the real admitter draws them. On
// the node, one real socket and 15,000 in-process connections (registered in
// the room directly: 15,000 sockets would not fit one test process) wait in
// the room. The test's hook holds the draw at its Redis read of the tickets
// until the test lets it go. While it is held, the room's tick runs to its
// end, a socket of another sale opens and joins, and a socket of the drawing
// sale itself opens: each of these completes before the draw is let go,
// which could not happen if the draw held a lock they need. Then the draw
// goes on and every shopper is told its position.
func TestADrawOfFifteenThousandShoppersDelaysNoSocketOpening(t *testing.T) {
	const shoppers = 15000
	drawing := make(chan struct{})
	release := make(chan struct{})
	releaseOnce := sync.OnceFunc(func() { close(release) })
	t.Cleanup(releaseOnce) // a failed test lets the draw go too
	n := startTestNode(t, Hooks{ReadingTickets: func(saleID string) {
		if saleID == "s_draw" {
			close(drawing)
			<-release
		}
	}})
	n.loadSale(t, "s_draw", 100, true)
	n.loadSale(t, "s_other", 100, false)
	// The crowd joins first, under a guard of its own: 15,000 joins took
	// more than the test's 20 s on a host starved at the suite's start.
	joinCtx, joined := context.WithTimeout(context.Background(), 3*time.Minute)
	defer joined()
	first := n.dial(t, joinCtx, "s_draw", "v_first", true)
	first.expect(joinCtx, wire.MsgWelcome)
	first.expect(joinCtx, wire.MsgPrequeue)
	room := n.hub.Following("s_draw")
	names := make([]string, shoppers)
	var joins errgroup.Group
	joins.SetLimit(8)
	for i := range names {
		names[i] = fmt.Sprintf("v_draw%05d", i)
		joins.Go(func() error {
			_, err := n.rooms.Join(joinCtx, "s_draw", names[i], "t_"+names[i])
			return err
		})
	}
	if err := joins.Wait(); err != nil {
		t.Fatal(err)
	}
	ctx := testContext(t)
	tabs := make([]*Conn, shoppers)
	for i, name := range names {
		// No socket to close: an idle timeout the test never reaches.
		tabs[i] = &Conn{shopper: name, status: connPrequeue, held: true, metrics: n.hub.metrics, idleFor: time.Hour}
		if !room.register(tabs[i], waitingroom.Status{SaleID: "s_draw"}) {
			t.Fatal("the room refused a connection")
		}
	}
	t.Cleanup(func() { // before the node stops: these have no socket to close
		releaseOnce() // a failed test lets the draw go first
		for _, c := range tabs {
			room.Remove(c)
		}
	})
	// The start comes: the real admitter opens the sale and draws.
	meta := waitingroom.Keys("s_draw").Meta
	if err := n.rdb.HSet(ctx, meta, "starts_at_ms", time.Now().UnixMilli()).Err(); err != nil {
		t.Fatal(err)
	}
	admitter := waitingroom.NewAdmitter(n.rdb, "node-test", slog.New(slog.NewTextHandler(io.Discard, nil)))
	admitter.Tick = 20 * time.Millisecond
	actx, stopAdmitter := context.WithCancel(context.Background())
	admitted := make(chan struct{})
	go func() { _ = admitter.Run(actx); close(admitted) }()
	t.Cleanup(func() { stopAdmitter(); <-admitted })
	select {
	case <-drawing:
	case <-ctx.Done():
		t.Fatal("the room never started placing the drawn shoppers")
	}
	// The draw is held at its Redis read. Everything below must complete
	// before it is let go.
	ticked := make(chan struct{})
	go func() { room.tick(time.Now()); close(ticked) }()
	select {
	case <-ticked:
	case <-ctx.Done():
		t.Fatal("the drawing room's tick waited for the draw")
	}
	other := n.dial(t, ctx, "s_other", "v_other", true)
	other.expect(ctx, wire.MsgWelcome)
	other.expect(ctx, wire.MsgPosition)
	same := n.dial(t, ctx, "s_draw", "v_same", false)
	same.expect(ctx, wire.MsgWelcome)
	select {
	case <-release:
		t.Fatal("the draw was let go before the openings completed")
	default:
	}
	releaseOnce()
	for {
		if first.next(ctx) == wire.MsgPosition {
			break // placed in the same pass as every other drawn shopper
		}
	}
	room.lock(func() {
		for i, c := range tabs {
			if c.status != connWaiting || c.lastPos <= 0 || len(c.queue) == 0 {
				t.Fatalf("drawn shopper %d: status %v, position %d, %d messages", i, c.status, c.lastPos, len(c.queue))
			}
		}
	})
}

// testNode is a hub over a real Redis, its sockets opened by a handler
// that does what the transport (server) does, in miniature: welcome, enter
// the room, join if asked, read until the client goes.
type testNode struct {
	hub   *Hub
	url   string
	rdb   *redis.Client
	rooms *waitingroom.Rooms
	// stop ends Run as a draining node's signal would and waits for it.
	stop func()
}

// startTestNode starts a hub with hooks, and its sockets' handler.
func startTestNode(t *testing.T, hooks Hooks) *testNode {
	t.Helper()
	rdb := testenv.RedisClient(t, testenv.NewRedis(t))
	ring, err := keyring.New(keyring.NewSeed())
	if err != nil {
		t.Fatal(err)
	}
	rooms := waitingroom.NewRooms(rdb)
	h := New(Config{Feed: rooms, Tokens: checkout.NewTokens(ring), CheckoutBase: "http://foyer.test",
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		EncodeError: func(err error) []byte {
			return encode(map[string]string{"type": wire.MsgError, "message": err.Error()})
		},
		Hooks: hooks})
	n := &testNode{hub: h, rdb: rdb, rooms: rooms}
	srv := httptest.NewServer(http.HandlerFunc(n.serveSocket))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = h.Run(ctx); close(done) }()
	n.stop = sync.OnceFunc(func() { cancel(); <-done })
	t.Cleanup(func() { n.stop(); srv.Close() })
	n.url = srv.URL
	return n
}

// serveSocket serves /SALE?shopper=ID[&join=1].
func (n *testNode) serveSocket(w http.ResponseWriter, req *http.Request) {
	done, ok := n.hub.Track()
	if !ok {
		return
	}
	defer done()
	ws, err := websocket.Accept(w, req, nil)
	if err != nil {
		return
	}
	ctx := context.WithoutCancel(req.Context())
	saleID, shopper := strings.TrimPrefix(req.URL.Path, "/"), req.URL.Query().Get("shopper")
	st, err := n.rooms.Status(ctx, saleID)
	if err != nil {
		ws.Close(websocket.StatusTryAgainLater, err.Error()) //nolint:errcheck // the test fails on the client's side
		return
	}
	c := NewConn(ws, nil, shopper, netip.Addr{}, n.hub, time.Minute)
	c.Told(st.State)
	c.Enqueue([]byte(`{"type":"welcome"}`))
	room, err := n.hub.Enter(ctx, st, c)
	if err != nil {
		c.Close(websocket.StatusTryAgainLater, err.Error())
		c.LetOut()
		return
	}
	if req.URL.Query().Get("join") == "1" {
		place, err := n.rooms.Join(ctx, saleID, shopper, "t_"+shopper)
		switch {
		case err != nil:
			c.Close(websocket.StatusInternalError, err.Error())
		case place.Prequeue > 0:
			room.Prequeued(shopper, place.Prequeue)
		default:
			room.Place(shopper, place.Ticket, place.Position, c, "")
		}
	}
	c.LetOut()
	for {
		if _, _, err := c.Read(ctx); err != nil {
			break
		}
	}
	c.Close(websocket.StatusNormalClosure, "")
	room.Remove(c)
}

// loadSale puts a sale into Redis: open now, or (prequeue) in its prequeue
// until an hour from now.
func (n *testNode) loadSale(t *testing.T, id string, stock int, prequeue bool) {
	t.Helper()
	start := time.Now().Add(-time.Minute)
	if prequeue {
		start = time.Now().Add(time.Hour)
	}
	p := waitingroom.Plan{ID: id, SKU: "SKU-" + id, Name: "Test " + id, PriceCents: 9900, Currency: "EUR", Stock: stock,
		StartsAt: start, EndsAt: start.Add(2 * time.Hour), OutflowPerSecond: 0.001, ReservationTTLSeconds: 300,
		PerShopperLimit: 1, PrequeueSeconds: 2 * 3600}
	if err := n.rooms.Load(context.Background(), &p); err != nil {
		t.Fatal(err)
	}
}

// testSocket is a shopper's WebSocket to a test node.
type testSocket struct {
	t  *testing.T
	ws *websocket.Conn
}

// dial opens a socket to a sale as shopper, joining at once with join.
func (n *testNode) dial(t *testing.T, ctx context.Context, saleID, shopper string, join bool) *testSocket {
	t.Helper()
	url := "ws" + strings.TrimPrefix(n.url, "http") + "/" + saleID + "?shopper=" + shopper
	if join {
		url += "&join=1"
	}
	ws, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	t.Cleanup(func() { ws.CloseNow() })
	return &testSocket{t: t, ws: ws}
}

// next reads the type of the next message but stock, which the room
// broadcasts on its own clock, or fails the test.
func (s *testSocket) next(ctx context.Context) string {
	s.t.Helper()
	for {
		_, data, err := s.ws.Read(ctx)
		if err != nil {
			s.t.Fatalf("read: %v", err)
		}
		var m struct{ Type string }
		if err := json.Unmarshal(data, &m); err != nil {
			s.t.Fatalf("decode %s: %v", data, err)
		}
		if m.Type != wire.MsgStock {
			return m.Type
		}
	}
}

// expect reads the next message and fails unless it is of type typ.
func (s *testSocket) expect(ctx context.Context, typ string) {
	s.t.Helper()
	if got := s.next(ctx); got != typ {
		s.t.Fatalf("got a %s, want a %s", got, typ)
	}
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}
