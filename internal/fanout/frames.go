package fanout

import (
	"cmp"
	"context"
	"time"

	"github.com/coder/websocket"
)

// Frames is what a Conn's messages are written to: one WebSocket frame per
// message (socketFrames), or one server-sent event per message (the HTTP
// fallback, in the server package). The Conn owns when and in what batches
// messages go; Frames owns only how they look on the wire and how the
// stream ends.
type Frames interface {
	// WriteFrames writes msgs in order, as one write to the network where
	// it can, and returns the first error; timeout bounds the whole batch.
	WriteFrames(msgs [][]byte, timeout time.Duration) error
	// Close tells the client the code and reason it acts on, then ends the
	// stream. It may wait for the client's answer (a WebSocket's closing
	// handshake).
	Close(code websocket.StatusCode, reason string) error
	// CloseNow ends the stream at once, telling the client nothing: a
	// client too slow to read would not read the reason either.
	CloseNow() error
}

// socketFrames writes a Conn's messages as WebSocket text frames. out is
// what ws writes to (hijacked, corkable); nil writes uncorked.
type socketFrames struct {
	ws  *websocket.Conn
	out *Corkable
}

// WriteFrames writes messages in order, up to the first that fails, in one
// write. The library's writes only copy into the cork, so they need no
// deadline of their own: a context with one cost each message a timer and
// an AfterFunc (a tenth of a gateway's allocations in a moving sale). The
// cork's one write to the socket has the deadline (Uncork). Without a cork
// (tests of the room alone) each write has its own.
func (f *socketFrames) WriteFrames(msgs [][]byte, timeout time.Duration) error {
	if f.out == nil {
		for _, msg := range msgs {
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			err := f.ws.Write(ctx, websocket.MessageText, msg)
			cancel()
			if err != nil {
				return err
			}
		}
		return nil
	}
	f.out.Cork()
	var err error
	for _, msg := range msgs {
		if err = f.ws.Write(context.Background(), websocket.MessageText, msg); err != nil {
			break
		}
	}
	return cmp.Or(err, f.out.Uncork(timeout))
}

func (f *socketFrames) Close(code websocket.StatusCode, reason string) error {
	return f.ws.Close(code, reason)
}

func (f *socketFrames) CloseNow() error { return f.ws.CloseNow() }

// SocketFrames is the Frames of a WebSocket; out is what ws writes to
// (hijacked, corkable), or nil to write uncorked.
func SocketFrames(ws *websocket.Conn, out *Corkable) Frames { return &socketFrames{ws: ws, out: out} }
