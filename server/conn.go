package server

import (
	"context"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// sendBuffer is how many messages may wait for a slow client before it is
// cut off with closeTooSlow. A client that reads at all never gets near it:
// a shopper receives about one message a second.
const sendBuffer = 32

// writeTimeout bounds one write to a client.
const writeTimeout = 10 * time.Second

// connStatus is where a connected shopper is, as this node knows it.
type connStatus int

const (
	connIdle     connStatus = iota // connected, not in the queue
	connPrequeue                   // in the prequeue, waiting for the draw
	connWaiting                    // in the queue with a ticket
	connAdmitted                   // holding a reservation
	connOrdered                    // checked out
)

// conn is one shopper's WebSocket on this node. Its status fields are guarded
// by the mutex of the sale room it is in.
type conn struct {
	ws      *websocket.Conn
	shopper string
	send    chan []byte
	done    chan struct{}
	once    sync.Once

	status      connStatus
	ticket      int64
	lastPos     int64
	lastETA     *eta // the last estimate sent, and the room's epoch then
	etaEpoch    int
	reservation string // the reservation last told to the client
}

func newConn(ws *websocket.Conn, shopper string) *conn {
	return &conn{ws: ws, shopper: shopper, send: make(chan []byte, sendBuffer), done: make(chan struct{})}
}

// enqueue hands a message to the writer without waiting. A client whose
// buffer is full is too slow: it is cut off rather than slowing the others.
func (c *conn) enqueue(msg []byte) {
	select {
	case <-c.done:
	case c.send <- msg:
	default:
		c.close(closeTooSlow, "too slow")
	}
}

// writeLoop writes queued messages until the connection ends.
func (c *conn) writeLoop() {
	for {
		select {
		case <-c.done:
			return
		case msg := <-c.send:
			ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
			err := c.ws.Write(ctx, websocket.MessageText, msg)
			cancel()
			if err != nil {
				c.close(websocket.StatusGoingAway, "write failed")
				return
			}
		}
	}
}

// close ends the connection once, with a close code the client acts on.
// The closing handshake waits for the client's answer, so it runs in the
// background: the caller may hold a room's lock.
func (c *conn) close(code websocket.StatusCode, reason string) {
	c.once.Do(func() {
		close(c.done)
		go c.ws.Close(code, reason) //nolint:errcheck // the peer may be gone already
	})
}

// closeAndWait is close for a node that is about to exit: it returns once
// the close frame is out and answered (or the library's timeout passed), so
// the client learns why before the process is gone.
func (c *conn) closeAndWait(code websocket.StatusCode, reason string) {
	c.once.Do(func() {
		close(c.done)
		c.ws.Close(code, reason) //nolint:errcheck // the peer may be gone already
	})
}
