package fanout

import (
	"context"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/foyerhq/foyer/waitingroom"
)

// sendBuffer is how many messages may wait for a slow client before it is
// cut off (cut): dropped without a close frame, which its full socket buffer
// could not take, so the client sees 1006, never wire.CloseTooSlow. A client
// that reads at all never gets near it: a shopper receives about one message
// a second.
const sendBuffer = 32

// writeTimeout bounds one write to a client. A write blocks only when the
// client stopped reading and the kernel's buffers are full; it holds one of
// the shared writers meanwhile, so it is kept short.
const writeTimeout = 5 * time.Second

// connStatus is where a connected shopper is, as this node knows it. A
// byte, kept beside the writers' marks: Conn's size decides its size class
// (see Conn).
type connStatus uint8

const (
	connIdle     connStatus = iota // connected, not in the queue
	connPrequeue                   // in the prequeue, waiting for the draw
	connWaiting                    // in the queue with a ticket
	connAdmitted                   // holding a reservation
	connOrdered                    // checked out
)

// Conn is one shopper's connection on this node: a WebSocket, or a stream
// of server-sent events (the HTTP fallback). A WebSocket's own goroutine
// reads; writing is done by the node's shared writers, so an idle
// connection costs one goroutine. The status fields are guarded by the
// mutex of the sale room the connection is in.
//
// Every held shopper keeps one, so its size counts: at most 288 bytes
// (TestAConnFitsASizeClassTheJoinLeavesEmpty says why).
type Conn struct {
	frames  Frames // what the writers write to: the socket's frames, or the stream's events
	shopper string
	addr    netip.Addr // the client's IP, as the blocklist knows it (zero when unknown)
	writers *writePool
	metrics *metrics
	idleFor time.Duration // a client silent this long is closed (idle.go)

	mu       sync.Mutex // guards queue, the writers' marks and closed
	queue    [][]byte
	news     int           // how many of queue are not the tick's pushes (enqueuePush): a profile tells their writes apart
	queuedAt time.Duration // when queue's first message came, as a time since the writers' epoch
	// The writers' marks (writePool.schedule): entries is how many places
	// the connection has in the writers' lines (two at most: one in each),
	// inNews whether one is in the news line, writing whether a writer
	// writes it now. Only one writer writes a connection at a time: a
	// writer that takes a place while another writes gives it up, and the
	// one writing looks for more when done.
	entries uint8
	inNews  bool
	writing bool
	held    bool // the socket is opening: its messages wait for LetOut
	// gathering holds the writer back while a room's tick queues its
	// messages (Gather, Send): they leave together, in one write.
	gathering bool
	closed    bool
	// status is guarded by the room's mutex, as the fields below are; a
	// byte of its own, so it shares no memory with the marks above.
	status connStatus
	// idleSlot is the slot of the room's idle wheel the connection is in,
	// plus one (0: in none); idleNext and idlePrev link the slot's list.
	idleSlot           uint8
	idleNext, idlePrev *Conn
	// ending is the close a connection is to get once what is queued for
	// it has been written (CloseAfterSent); nil when none is due.
	ending *ending
	once   sync.Once
	// pace is the fall told with lastPos, places a second (0: none, the
	// tab does not count), guarded by the room's mutex like the fields
	// below: it fills the four bytes sync.Once leaves before the next word.
	pace int32
	// wroteAt is when a write to the client last began, as a time since
	// the writers' epoch (monotonic, unlike the wall clock): a ping
	// is answered only after a quiet spell (Quiet).
	wroteAt atomic.Int64
	// heardAt is when the client last sent anything, as a time since the
	// writers' epoch (Heard).
	heardAt atomic.Int64

	ticket      int64
	lastPos     int64
	shownAt     uint32 // when lastPos was sent, in tenths of the room's ticks (fall.go)
	stockSeen   uint32 // the room's stock version the client was told last
	stockAt     uint32 // the room's tick at which it was told
	etaEpoch    int32  // the room's epoch when lastETA was sent
	lastETA     *ETA   // the last estimate sent
	reservation string // the reservation last told to the client
	// order is the latest news of the reservation's order told to the
	// client, made at the first: most tabs never get one.
	order    *orderTold
	customer string // the shop's customer id of the session, or "" (SetCustomer)
	// told is the sale's state as last told to the client: its welcome's,
	// then each change the room told.
	told waitingroom.State
}

// NewConn is a socket's connection to hub h, held: what it is sent waits
// for LetOut. out is what ws writes to (hijacked, corkable); nil writes
// uncorked. A client that sends nothing for idleFor is closed (wire.CloseIdle).
func NewConn(ws *websocket.Conn, out *Corkable, shopper string, addr netip.Addr, h *Hub, idleFor time.Duration) *Conn {
	return NewStreamConn(&socketFrames{ws: ws, out: out}, shopper, addr, h, idleFor)
}

// NewStreamConn is NewConn for any Frames: the HTTP fallback's stream of
// server-sent events is a Conn like a socket, in the same room, written by
// the same writers, with the same guarantees.
func NewStreamConn(frames Frames, shopper string, addr netip.Addr, h *Hub, idleFor time.Duration) *Conn {
	c := &Conn{frames: frames, shopper: shopper, addr: addr, writers: h.writers, metrics: h.metrics, idleFor: idleFor,
		held: true}
	c.metrics.connections.Inc()
	c.metrics.open.Add(1)
	c.Heard()
	return c
}

// holdsUnit reports whether the tab holds a reservation or has checked
// out: it is out of the queue, and the sale's counters are not its to
// watch. r.mu is held.
func (c *Conn) holdsUnit() bool { return c.status == connAdmitted || c.status == connOrdered }

// SetCustomer names the shop's customer of a session made from the shop's
// identity token, before the connection joins a room: its reservation
// tokens carry it. Anonymous connections have none.
func (c *Conn) SetCustomer(id string) { c.customer = id }

// Heard restarts the idle clock: the client is alive. It only notes the
// time; the room's idle sweep, when the connection's second comes, looks at
// it and places the connection again at its new deadline (idle.go): moving
// it for every message a client sends would cost more than the note.
func (c *Conn) Heard() { c.heardAt.Store(int64(time.Since(c.writers.epoch))) }

// Enqueue hands a message to the shared writers without waiting. A client
// whose queue is full is too slow: it is cut off rather than slowing the others.
func (c *Conn) Enqueue(msg []byte) { c.enqueue(msg, true) }

// enqueuePush is Enqueue for the room's once-a-second pushes (the counters
// and a position at a tick): a write of those alone is labelled a push in
// a CPU profile (writers.go), so that what pushes cost can be told from
// what the news does (admissions, orders, answers).
func (c *Conn) enqueuePush(msg []byte) { c.enqueue(msg, false) }

func (c *Conn) enqueue(msg []byte, news bool) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	if len(c.queue) >= sendBuffer {
		c.mu.Unlock()
		c.cut()
		return
	}
	if len(c.queue) == 0 && c.writers != nil { // none in tests of a room alone
		c.queuedAt = time.Since(c.writers.epoch)
	}
	c.queue = append(c.queue, msg)
	if news {
		c.news++
	}
	schedule, news := c.claimWriter()
	c.mu.Unlock()
	if schedule {
		c.writers.schedule(c, news)
	}
}

// Gather holds the connection's writer back while a tick queues several
// messages (the stock, then the position): without it a writer could take
// the first alone, and the second would cost a write of its own, the system
// call that was a third of a gateway's CPU in a moving sale. Send lets them
// go.
func (c *Conn) Gather() {
	c.mu.Lock()
	c.gathering = true
	c.mu.Unlock()
}

// Send ends a Gather: what was queued goes to a writer, in one write.
func (c *Conn) Send() { c.letGo(&c.gathering) }

// LetOut sends what was queued while the socket opened, and what comes
// after as it comes.
func (c *Conn) LetOut() { c.letGo(&c.held) }

// letGo clears a flag that held the writer back (held, gathering) and hands
// what is queued to a writer.
func (c *Conn) letGo(holding *bool) {
	c.mu.Lock()
	*holding = false
	schedule, news := c.claimWriter()
	c.mu.Unlock()
	if schedule {
		c.writers.schedule(c, news)
	}
}

// claimWriter reports whether the connection is to take a place in a
// writers' line now, and which (news: the line that goes first), and marks
// it taken: it has something to send, is open and let out, and no writer
// writes it. It has at most one place in each line: one waiting with a
// tick's pushes that is then told news takes a place in the news line too,
// so the news does not wait behind a big room's tick (writePool). c.mu
// must be held.
func (c *Conn) claimWriter() (schedule, news bool) {
	if c.held || c.gathering || c.closed || c.writing || len(c.queue) == 0 {
		return false, false
	}
	news = c.news > 0
	if c.entries > 0 && (!news || c.inNews) {
		return false, false // its place in line will take what it has
	}
	c.entries++
	c.inNews = c.inNews || news
	return true, news
}

// flush writes what is queued, then gives the writer back: a connection with
// more to send goes to the back of a line, so none holds a writer for long.
// fromNews says which line the writer took it from. A place taken while
// another writer writes the connection, or after one wrote what it was for,
// is given up.
func (c *Conn) flush(fromNews bool) {
	c.mu.Lock()
	c.entries--
	if fromNews {
		c.inNews = false
	}
	if c.writing || len(c.queue) == 0 {
		c.mu.Unlock()
		return
	}
	c.writing = true
	batch, pushes, queuedAt := c.queue, c.news == 0, c.queuedAt
	c.queue, c.news = nil, 0
	c.mu.Unlock()
	c.writers.label(pushes)
	// Stored before the write: the client may answer what it reads before
	// the write returns here.
	c.wroteAt.Store(int64(time.Since(c.writers.epoch)))
	if err := c.write(batch); err != nil {
		c.Close(websocket.StatusGoingAway, "write failed")
	}
	c.metrics.wrote(pushes, len(batch), time.Since(c.writers.epoch)-queuedAt)
	c.mu.Lock()
	c.writing = false
	if end := c.ending; end != nil && len(c.queue) == 0 {
		c.mu.Unlock()
		c.Close(end.code, end.reason)
		return
	}
	more, news := c.claimWriter()
	c.mu.Unlock()
	if more {
		c.writers.schedule(c, news)
	}
}

// Close ends the connection once, with a close code the client acts on.
// The closing handshake waits for the client's answer, so it runs in the
// background: the caller may hold a room's lock.
func (c *Conn) Close(code websocket.StatusCode, reason string) {
	if first, unsent := c.markClosed(); first {
		go c.closeAfter(unsent, code, reason)
	}
}

// ending is a close put off until the news queued before it is written.
type ending struct {
	code   websocket.StatusCode
	reason string
}

// CloseAfterSent closes the connection with code once what is queued for it
// now has been written, so a client reads the close in the light of the
// news before it (a sale deleted: "ended", then 4004). A socket still
// opening is sent its queue by Close itself.
func (c *Conn) CloseAfterSent(code websocket.StatusCode, reason string) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	if c.held || (!c.writing && len(c.queue) == 0) {
		c.mu.Unlock()
		c.Close(code, reason)
		return
	}
	c.ending = &ending{code, reason}
	c.mu.Unlock()
}

// cut drops a client too slow to keep up, at once and without a close
// frame: its socket buffer is full, so wire.CloseTooSlow could not get
// through, and a graceful close would hold a writer and the buffers until
// the write timeout.
func (c *Conn) cut() {
	if first, _ := c.markClosed(); first {
		c.metrics.dropped.Inc()
		go c.frames.CloseNow() //nolint:errcheck // dropping is the point
	}
}

// Gone ends a connection whose client went without a close frame (its
// reader met the end of the stream, or a reset): nothing written to it now
// arrives, so no closing handshake is tried. Closed as Close closes, it cost
// a close frame's write and a goroutine waiting for an answer that never
// comes: a twentieth of a gateway's CPU in issue 21's sales, whose shoppers
// mostly leave so (docs/performance.md).
func (c *Conn) Gone() {
	if first, _ := c.markClosed(); first {
		c.frames.CloseNow() //nolint:errcheck // the client is gone
	}
}

// CloseAndWait is Close for a node that is about to exit: it returns once
// the close frame is out and answered (or the library's timeout passed), so
// the client learns why before the process is gone.
func (c *Conn) CloseAndWait(code websocket.StatusCode, reason string) {
	if first, unsent := c.markClosed(); first {
		c.closeAfter(unsent, code, reason)
	}
}

// closeAfter sends what a socket closed while it opened was told (its
// welcome, with the session made for it, and why it closes), then the
// close frame.
func (c *Conn) closeAfter(unsent [][]byte, code websocket.StatusCode, reason string) {
	// Only a socket still opening has anything unsent, and no writer
	// runs for it: a cork taken here while a writer writes would end the
	// writer's own.
	if len(unsent) > 0 {
		_ = c.write(unsent) // a close follows either way
	}
	c.frames.Close(code, reason) //nolint:errcheck // the peer may be gone already
}

// write writes messages in order, up to the first that fails, in one
// write (Frames.WriteFrames).
func (c *Conn) write(msgs [][]byte) error { return c.frames.WriteFrames(msgs, writeTimeout) }

// Quiet reports whether nothing has been written to the client for d: a
// keepalive ping is answered then only (docs/protocol.md), since any
// message written tells the client, and every proxy on the way, that the
// connection lives, and a pong to each ping of a shopper pushed news anyway
// was half of what an idle shopper cost the node.
func (c *Conn) Quiet(d time.Duration) bool {
	return time.Since(c.writers.epoch)-time.Duration(c.wroteAt.Load()) >= d
}

// ClosedHere reports whether this node has closed the connection: the
// reader's error is then only the echo of that close.
func (c *Conn) ClosedHere() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// markClosed reports whether this call is the one that closes the
// connection, and, if the connection was still opening, what it was to be
// told: no writer has taken that yet, and the closer sends it. What is
// queued for an open connection is dropped; a writer may be sending the
// rest.
func (c *Conn) markClosed() (first bool, unsent [][]byte) {
	c.once.Do(func() {
		first = true
		c.metrics.connections.Dec()
		c.metrics.open.Add(-1)
		c.mu.Lock()
		if c.held {
			unsent = c.queue
		}
		c.closed, c.queue, c.news = true, nil, 0
		c.mu.Unlock()
	})
	return first, unsent
}

// Shopper is the shopper whose connection this is.
func (c *Conn) Shopper() string { return c.shopper }

// Told records the sale's state as the connection's welcome told it, before
// it enters its room: the room retells a state that changed since.
func (c *Conn) Told(s waitingroom.State) { c.told = s }

// Read reads the client's next message (websocket.Conn.Read). Only a
// WebSocket's Conn is read: the HTTP fallback's client messages come as
// requests of their own.
func (c *Conn) Read(ctx context.Context) (websocket.MessageType, []byte, error) {
	return c.frames.(*socketFrames).ws.Read(ctx)
}
