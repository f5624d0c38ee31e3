package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/redis/go-redis/v9"

	"github.com/foyerhq/foyer/checkout"
	"github.com/foyerhq/foyer/internal/fanout"
	"github.com/foyerhq/foyer/internal/keyring"
	"github.com/foyerhq/foyer/internal/testenv"
	"github.com/foyerhq/foyer/internal/wire"
	"github.com/foyerhq/foyer/waitingroom"
)

// testNode is one gateway's transport serving shoppers over a real Redis,
// without Postgres: sales are loaded straight into Redis.
type testNode struct {
	s     *Server
	url   string // the HTTP base URL
	rdb   *redis.Client
	rooms *waitingroom.Rooms
	logs  *syncBuffer
	// stop ends Run as a draining node's signal would and waits for it.
	stop func()
}

// startTestNode starts a node; configure may set hooks before it serves.
func startTestNode(t *testing.T, configure func(*Server)) *testNode {
	t.Helper()
	rdb := testenv.RedisClient(t, testenv.NewRedis(t))
	ring, err := keyring.New(keyring.NewSeed())
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	rooms := waitingroom.NewRooms(rdb)
	s := New(Config{IdleTimeout: time.Minute, PublicURL: "http://foyer.test"}, Deps{
		Rooms: rooms, Presence: waitingroom.NewPresence(rdb, "node-test"), Tokens: checkout.NewTokens(ring), Ring: ring,
		Ready: func(context.Context) ReadyReport { return ReadyReport{} },
		Log:   slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if configure != nil {
		configure(s)
	}
	srv := httptest.NewServer(s.Handler())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = s.Run(ctx); close(done) }()
	stop := sync.OnceFunc(func() { cancel(); <-done })
	t.Cleanup(func() { stop(); srv.Close() })
	return &testNode{s: s, url: srv.URL, rdb: rdb, rooms: rooms, logs: logs, stop: stop}
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

// wireMsg is any server message, the fields the tests read.
type wireMsg struct {
	Type     string      `json:"type"`
	Code     string      `json:"code"`
	Position int64       `json:"position"`
	Waiting  int64       `json:"waiting"`
	ETA      *fanout.ETA `json:"eta"`
	You      struct {
		Session *madeSessionView `json:"session"`
	} `json:"you"`
}

// testSocket is a shopper's WebSocket to a test node.
type testSocket struct {
	t  *testing.T
	ws *websocket.Conn
}

// dial opens a socket to a sale with the query given ("session=new", ...).
func (n *testNode) dial(t *testing.T, ctx context.Context, saleID, query string) *testSocket {
	t.Helper()
	url := "ws" + strings.TrimPrefix(n.url, "http") + "/v1/sales/" + saleID + "/ws?" + query
	ws, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{wire.Subprotocol}})
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	ws.SetReadLimit(1 << 20)
	t.Cleanup(func() { ws.CloseNow() })
	return &testSocket{t: t, ws: ws}
}

func (s *testSocket) send(ctx context.Context, msg string) {
	s.t.Helper()
	if err := s.ws.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
		s.t.Fatalf("send %s: %v", msg, err)
	}
}

// next reads the next message, or fails the test.
func (s *testSocket) next(ctx context.Context) wireMsg {
	s.t.Helper()
	m, err := s.read(ctx)
	if err != nil {
		s.t.Fatalf("read: %v", err)
	}
	return m
}

// read reads the next message but stock, which the room broadcasts on its
// own clock (once a second, when the counters change): no test's request
// is answered with it.
func (s *testSocket) read(ctx context.Context) (wireMsg, error) {
	for {
		_, data, err := s.ws.Read(ctx)
		if err != nil {
			return wireMsg{}, err
		}
		var m wireMsg
		if err := json.Unmarshal(data, &m); err != nil {
			s.t.Fatalf("decode %s: %v", data, err)
		}
		if m.Type != wire.MsgStock {
			return m, nil
		}
	}
}

// expect reads the next message and fails unless it is of type typ.
func (s *testSocket) expect(ctx context.Context, typ string) wireMsg {
	s.t.Helper()
	m := s.next(ctx)
	if m.Type != typ {
		s.t.Fatalf("got %+v, want a %s", m, typ)
	}
	return m
}

// syncBuffer is a log's output that tests read while the node writes it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var _ io.Writer = (*syncBuffer)(nil)

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}
