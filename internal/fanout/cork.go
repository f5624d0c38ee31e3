package fanout

import (
	"net"
	"sync"
	"time"
)

// Corkable is a shopper's connection as the WebSocket library writes to it.
// The library flushes every message with a write of its own; between cork
// and uncork those writes gather here instead, so that a batch of messages
// leaves in one system call and, on the wire, one segment. A new shopper's
// welcome and place are such a batch: two writes were a tenth of a
// gateway's CPU in a join storm, and two reads for the client.
type Corkable struct {
	net.Conn
	mu      sync.Mutex // guards corked and pending, and orders the writes
	corked  bool
	pending *[]byte // from corkBuffers while corked
}

func (w *Corkable) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.corked {
		if w.pending == nil {
			w.pending = corkBuffers.Get().(*[]byte)
		}
		*w.pending = append(*w.pending, p...)
		return len(p), nil
	}
	return w.Conn.Write(p)
}

// Cork starts gathering writes.
func (w *Corkable) Cork() {
	w.mu.Lock()
	w.corked = true
	w.mu.Unlock()
}

// Uncork writes what gathered in one write, and writes go straight through
// again. The library's write timeouts covered only the copies, so this
// write gets its own: timeout. The library's writes count on no deadline,
// so it goes once the write is done; a write that failed keeps it, passed
// if it timed out, since it may have sent part of a frame and nothing may
// follow that: the close frame the caller then sends fails at once, and the
// connection closes.
func (w *Corkable) Uncork(timeout time.Duration) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.corked = false
	if w.pending == nil {
		return nil
	}
	p := w.pending
	w.pending = nil // a held shopper keeps no buffer
	defer func() {
		*p = (*p)[:0]
		corkBuffers.Put(p)
	}()
	if err := w.Conn.SetWriteDeadline(time.Now().Add(timeout)); err != nil {
		return err
	}
	if _, err := w.Conn.Write(*p); err != nil {
		return err
	}
	return w.Conn.SetWriteDeadline(time.Time{})
}

// corkBuffers are the buffers a corked connection gathers its writes in,
// shared by every connection of the process: a connection holds one only
// from Cork to Uncork, and one made for each batch was a twentieth of a
// gateway's allocations in a moving sale. A cache, not state: any buffer
// does for any connection.
var corkBuffers = sync.Pool{New: func() any {
	b := make([]byte, 0, 1024)
	return &b
}}
