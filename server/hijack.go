package server

import (
	"bufio"
	"bytes"
	"io"
	"net"

	"github.com/gin-gonic/gin"

	"github.com/foyerhq/foyer/internal/fanout"
)

// A held shopper's socket keeps, for as long as it is open, the buffers its
// connection is read and written through. net/http hands a hijacked
// connection over with 4 KiB for each; a shopper sends a few dozen bytes at a
// time and is sent a few hundred, so those 8 KiB were most of what an idle
// shopper cost. These are enough: a message larger than the write buffer
// goes out in one more write, one larger than the read buffer in more reads.
const (
	socketReadBuffer  = 512
	socketWriteBuffer = 1024
)

// smallBuffers is the gin response writer of a WebSocket upgrade, whose
// Hijack hands the connection over with small buffers, and writable through
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
	// What net/http read ahead goes into the new reader's buffer, not into
	// a reader behind it: the library takes what is buffered and puts the
	// connection itself behind it (accept.go).
	n := brw.Reader.Buffered()
	early, _ := brw.Reader.Peek(n)
	br := bufio.NewReaderSize(io.MultiReader(bytes.NewReader(bytes.Clone(early)), raw), max(socketReadBuffer, n))
	if n > 0 {
		if _, err := br.Peek(n); err != nil {
			return nil, nil, err
		}
	}
	return conn, bufio.NewReadWriter(br, bufio.NewWriterSize(conn, socketWriteBuffer)), nil
}
