package shopperclient

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/foyerhq/foyer/internal/clock"
	"github.com/foyerhq/foyer/internal/wire"
)

// DefaultMessageBuffer is how many messages Messages holds for a consumer
// by default. The server pushes a position and a stock update at most once
// a second each, so 64 is half a minute of a consumer not reading at all.
const DefaultMessageBuffer = 64

// dialTimeout bounds one WebSocket handshake, so a node that went dark
// without closing costs a shopper seconds, not the operating system's
// connect timeout.
const dialTimeout = 10 * time.Second

// Shopper is one shopper in one sale, kept connected: the reference a
// mobile client ports. Run connects to one of the gateway URLs and keeps
// reconnecting as docs/protocol.md says, keeping its session (and so its
// place) across connections; every server message comes out of Messages.
//
//	sh := shopperclient.NewShopper(urls, saleID)
//	go func() { errc <- sh.Run(ctx) }()
//	sh.Join(ctx)
//	for m := range sh.Messages() { ... }
//
// A Shopper is safe for concurrent use. Run may be called once.
type Shopper struct {
	saleID  string
	clients []*Client // one per gateway URL, tried in turn

	buffer       int
	backoff      Backoff
	sleep        func(context.Context, time.Duration) error
	onDisconnect func(err error, wait time.Duration)

	msgs    chan Message
	dropped atomic.Uint64
	running atomic.Bool

	mu         sync.Mutex
	sess       Session   // empty until the first connection asks for one
	conn       *Conn     // the welcomed connection; nil between connections
	wantPlace  bool      // Join was called, and Leave not since
	placeAsked bool      // a join of this session reached the server, and no leave since
	clock      clockSync // the server's clock, from the "time" answers
}

// Option configures a Shopper.
type Option func(*Shopper)

// WithSession starts the shopper with a session it kept (a browser keeps its
// token in local storage) instead of asking for a new one: the server gives
// it back its place. Default: a new session at the first connection.
func WithSession(s Session) Option { return func(sh *Shopper) { sh.sess = s } }

// WithMessageBuffer sets how many messages Messages holds for a consumer
// that has not read them yet. Default: DefaultMessageBuffer.
func WithMessageBuffer(n int) Option { return func(sh *Shopper) { sh.buffer = max(n, 1) } }

// WithBackoff sets the backoff between reconnections; its zero fields take
// DefaultBackoff's. Tests give it a fixed Rand.
func WithBackoff(b Backoff) Option { return func(sh *Shopper) { sh.backoff = b.withDefaults() } }

// WithSleep replaces how Run waits out a backoff: sleep must return after d,
// or with ctx's error once ctx ends. Tests record the waits instead.
func WithSleep(sleep func(ctx context.Context, d time.Duration) error) Option {
	return func(sh *Shopper) { sh.sleep = sleep }
}

// OnDisconnect sets a function Run calls each time a connection ends (or
// could not be made) and the shopper is about to try again after wait: an
// app shows "reconnecting". It runs on Run's goroutine and must not block.
func OnDisconnect(f func(err error, wait time.Duration)) Option {
	return func(sh *Shopper) { sh.onDisconnect = f }
}

// NewShopper returns a shopper for a sale, to reach through the gateways at
// urls (http or https base URLs, any node of the same deployment). Nothing
// happens until Run.
func NewShopper(urls []string, saleID string, opts ...Option) *Shopper {
	sh := &Shopper{saleID: saleID, buffer: DefaultMessageBuffer, backoff: DefaultBackoff, sleep: clock.Sleep}
	for _, u := range urls {
		sh.clients = append(sh.clients, New(u))
	}
	for _, opt := range opts {
		opt(sh)
	}
	sh.msgs = make(chan Message, sh.buffer)
	return sh
}

// Messages delivers every message the server sends, in order, across
// connections (each connection starts with a "welcome"); it is closed when
// Run returns. The channel holds WithMessageBuffer messages. Delivery never
// waits for the consumer, since a reader that stalls gets the connection
// closed as too slow: when the buffer is full, the oldest message in it is
// dropped to make room for the newest, and Dropped counts it. The newest
// position and stock supersede the old ones; a consumer that might fall
// that far behind while an "admitted" is in the buffer should read faster.
func (s *Shopper) Messages() <-chan Message { return s.msgs }

// Dropped counts the messages dropped because the consumer of Messages fell
// a full buffer behind.
func (s *Shopper) Dropped() uint64 { return s.dropped.Load() }

// Session is the shopper's current session: the one given, or the last one
// the server issued (empty before the first connection).
func (s *Shopper) Session() Session {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sess
}

// Offset is how far the server's clock is ahead of ours, from the last clock
// sync (zero before the first answer). See docs/protocol.md, "Clock sync".
func (s *Shopper) Offset() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.clock.offset
}

// ServerNow is the server's time now, as the clock sync estimates it: draw
// every countdown from it.
func (s *Shopper) ServerNow() time.Time { return time.Now().Add(s.Offset()) }

// Run keeps the shopper connected until ctx ends (it then returns ctx's
// error) or the server says there is no point: 4004 ends it with an error
// wrapping ErrSaleNotFound, 4002 with ErrUnsupportedVersion, 1009 with the
// close error, 1000 with nil. Otherwise, when a connection ends, it goes on
// to the next URL in turn: at once after 1001 (the node is draining), with a
// new session after 4001, and after a backoff (WithBackoff) after anything
// else: 4008, 4009, 1013, a network error. The backoff grows with each
// connection in a row that fails before its welcome.
func (s *Shopper) Run(ctx context.Context) error {
	if !s.running.CompareAndSwap(false, true) {
		return errors.New("shopperclient: Shopper.Run called twice")
	}
	defer close(s.msgs)
	if len(s.clients) == 0 {
		return errors.New("shopperclient: a Shopper needs at least one gateway URL")
	}
	failures := 0 // connections in a row that ended unwelcomed, the last one included
	for attempt := 0; ; attempt++ {
		welcomed, err := s.connectOnce(ctx, s.clients[attempt%len(s.clients)])
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if welcomed {
			failures = 0
		}
		failures++
		rec, final := recoveryFor(err)
		switch rec {
		case stop:
			if final != nil {
				return fmt.Errorf("sale %s: %w", s.saleID, final)
			}
			return nil
		case renewSession:
			s.forgetSession()
		}
		wait := rec.wait(failures, s.backoff)
		if asked := retryAfter(err); asked > 0 {
			// A node at its ceiling, or a limit: come back when asked, not
			// before, and not all at once (up to a second of jitter).
			wait = max(wait, asked+time.Duration(s.backoff.Rand()*float64(time.Second)))
		}
		if s.onDisconnect != nil {
			s.onDisconnect(err, wait)
		}
		if wait > 0 {
			if err := s.sleep(ctx, wait); err != nil {
				return err
			}
		}
	}
}

// connectOnce makes one connection through client and delivers its messages
// until it ends. It returns why it ended, and whether the server welcomed it.
func (s *Shopper) connectOnce(ctx context.Context, client *Client) (welcomed bool, err error) {
	sess, err := s.session(ctx, client)
	if err != nil {
		return false, err
	}
	dctx, cancel := context.WithTimeout(ctx, dialTimeout)
	conn, err := client.Connect(dctx, s.saleID, sess)
	cancel()
	if err != nil {
		return false, err
	}
	defer conn.CloseNow()
	// The greeting and the clock sync write beside the reader, which never
	// waits for them; they end with the connection.
	gctx, stopGreeting := context.WithCancel(ctx)
	var greeter sync.WaitGroup
	defer greeter.Wait()
	defer stopGreeting()
	defer s.disconnected()

	for {
		m, err := conn.Next(ctx)
		if err != nil {
			return welcomed, err
		}
		receivedAt := time.Now().UnixMilli()
		switch m.Type {
		case wire.MsgWelcome:
			if !welcomed {
				welcomed = true
				greeting := s.welcomed(conn)
				greeter.Go(func() { s.greet(gctx, conn, greeting) })
			}
		case wire.MsgTime:
			s.mu.Lock()
			s.clock.add(m.ClientTime, m.ServerTime, receivedAt)
			s.mu.Unlock()
		case wire.MsgError:
			if wait, ok := s.rejoinAfter(m); ok {
				greeter.Go(func() { s.rejoin(gctx, conn, wait) })
			}
		}
		s.deliver(m)
	}
}

// session returns the shopper's session, asking client for one if it has none.
func (s *Shopper) session(ctx context.Context, client *Client) (Session, error) {
	s.mu.Lock()
	sess := s.sess
	s.mu.Unlock()
	if sess.Token != "" {
		return sess, nil
	}
	sess, err := client.NewSession(ctx)
	if err != nil {
		return Session{}, fmt.Errorf("new session: %w", err)
	}
	s.mu.Lock()
	s.sess = sess
	s.mu.Unlock()
	return sess, nil
}

// forgetSession drops a session the server refused. The place went with
// it: a shopper that wants one joins anew, at the back, once reconnected.
func (s *Shopper) forgetSession() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sess = Session{}
	s.placeAsked = false
}

// welcomed makes conn the shopper's connection, and says what to tell the
// server first so that it knows what the shopper wants: "resume" to have
// the place it kept pushed again, "join" for a join that never reached the
// server, "leave" for a leave asked while disconnected; or nothing.
func (s *Shopper) welcomed(conn *Conn) (greeting string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.conn = conn
	s.clock.begin()
	switch {
	case s.wantPlace && s.placeAsked:
		return wire.CmdResume
	case s.wantPlace:
		return wire.CmdJoin
	case s.placeAsked:
		return wire.CmdLeave
	}
	return ""
}

func (s *Shopper) disconnected() {
	s.mu.Lock()
	s.conn = nil
	s.mu.Unlock()
}

// greet sends the greeting, then syncs the clock: clockSamples "time"
// requests, clockSpacing apart. The reader takes in the answers.
func (s *Shopper) greet(ctx context.Context, conn *Conn, greeting string) {
	if greeting != "" && s.command(ctx, conn, greeting) != nil {
		return
	}
	for i := range clockSamples {
		if i > 0 && clock.Sleep(ctx, clockSpacing) != nil {
			return
		}
		if conn.Send(ctx, wire.ClientMsg{Type: wire.CmdTime, ClientTime: time.Now().UnixMilli()}) != nil {
			return
		}
	}
}

// command sends join, leave or resume on conn, and records what the server
// now knows of the shopper's place. A join goes through Conn.Join, which
// does the sale's proof of work, if it asks for one.
func (s *Shopper) command(ctx context.Context, conn *Conn, typ string) error {
	send := func() error { return conn.Send(ctx, wire.ClientMsg{Type: typ}) }
	if typ == wire.CmdJoin {
		send = func() error { return conn.Join(ctx) }
	}
	if err := send(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch typ {
	case wire.CmdJoin:
		s.placeAsked = true
	case wire.CmdLeave:
		s.placeAsked = false
	}
	return nil
}

// Join asks for a place in the queue (or in the prequeue, before the
// start); the answer comes on Messages (position, prequeue, or an error such
// as too_early). The wish outlasts connections: between connections the join
// is sent once the shopper is welcomed again, and after a reconnect the
// shopper resumes the place it has instead of joining anew. Join fails only
// when ctx ends before the join could be sent.
func (s *Shopper) Join(ctx context.Context) error { return s.want(ctx, true, wire.CmdJoin) }

// Leave gives the place up, now or, between connections, once welcomed
// again. Like Join, it fails only when ctx ends first.
func (s *Shopper) Leave(ctx context.Context) error { return s.want(ctx, false, wire.CmdLeave) }

func (s *Shopper) want(ctx context.Context, place bool, typ string) error {
	s.mu.Lock()
	s.wantPlace = place
	conn := s.conn
	s.mu.Unlock()
	if conn == nil {
		return nil // welcomed will send it
	}
	// A send that fails otherwise means the connection is going: the next
	// one's greeting sends it.
	if err := s.command(ctx, conn, typ); err != nil && ctx.Err() != nil {
		return fmt.Errorf("%s: %w", typ, ctx.Err())
	}
	return nil
}

// Checkout confirms the reservation of an "admitted" message; the order
// follows on Messages as an "order" message.
func (s *Shopper) Checkout(ctx context.Context, admitted Message) (CheckoutResult, error) {
	return s.CheckoutProduct(ctx, admitted, "", 1)
}

// CheckoutProduct is Checkout of quantity units of the product an event's
// shopper chose, by its SKU (docs/products.md).
func (s *Shopper) CheckoutProduct(ctx context.Context, admitted Message, product string, quantity int) (CheckoutResult, error) {
	if admitted.Type != wire.MsgAdmitted || admitted.CheckoutURL == "" {
		return CheckoutResult{}, fmt.Errorf("checkout: a %q message is not an admission", admitted.Type)
	}
	if len(s.clients) == 0 {
		return CheckoutResult{}, errors.New("checkout: the shopper has no gateway URL")
	}
	// The checkout URL is absolute: any client reaches it.
	return s.clients[0].CheckoutProduct(ctx, admitted.CheckoutURL, admitted.Token, product, quantity)
}

// deliver hands m to the consumer without ever blocking the reader: with
// the buffer full, the oldest message waiting is dropped to make room.
// Only the reader sends, so the loop ends at the latest on its second turn.
func (s *Shopper) deliver(m Message) {
	for {
		select {
		case s.msgs <- m:
			return
		default:
		}
		select {
		case <-s.msgs:
			s.dropped.Add(1)
		default:
		}
	}
}

// rejoinAfter says whether an error refused a join the shopper still wants
// for a passing reason (the node busy, a limit, Redis unreachable), and how
// long to wait before joining again: what the server asked, plus up to a
// second of jitter so a refused crowd does not come back at once.
func (s *Shopper) rejoinAfter(m Message) (time.Duration, bool) {
	switch m.Code {
	case wire.CodeBusy, wire.CodeRateLimited, wire.CodeUnavailable:
	default:
		return 0, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.wantPlace {
		return 0, false
	}
	asked := time.Duration(max(1, m.RetryAfter)) * time.Second
	return asked + time.Duration(s.backoff.Rand()*float64(time.Second)), true
}

// rejoin sends the join again after wait, if the shopper still wants a place.
func (s *Shopper) rejoin(ctx context.Context, conn *Conn, wait time.Duration) {
	if err := s.sleep(ctx, wait); err != nil {
		return
	}
	s.mu.Lock()
	want := s.wantPlace
	s.mu.Unlock()
	if want {
		_ = s.command(ctx, conn, wire.CmdJoin) // a failure means the connection is going; the next one joins
	}
}
