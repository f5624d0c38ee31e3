package server

import (
	"bufio"
	"net"

	"github.com/gin-gonic/gin"

	"github.com/foyerhq/foyer/internal/fanout"
	"github.com/foyerhq/foyer/internal/smallbuffers"
)

// smallBuffers is the gin response writer of a WebSocket upgrade, whose
// Hijack hands the connection over with small buffers (internal/smallbuffers), and writable through
// a cork (conn, once hijacked). Everything else is gin's (WriteHeaderNow
// included, which the upgrade needs).
type smallBuffers struct {
	gin.ResponseWriter
	conn *fanout.Corkable
}

// Hijack takes the connection from net/http and keeps whatever the client
// sent after its request that net/http had already read.
func (w *smallBuffers) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	raw, brw, err := w.ResponseWriter.Hijack()
	if err != nil {
		return nil, nil, err
	}
	// The library writes to the connection it is given, whatever writer
	// its buffer had: the cork must be that connection.
	conn := &fanout.Corkable{Conn: raw}
	w.conn = conn
	// Rebuffered as the bench's tuned bare server is (internal/smallbuffers).
	rw, err := smallbuffers.Rebuffer(brw, raw, conn)
	if err != nil {
		return nil, nil, err
	}
	return conn, rw, nil
}
