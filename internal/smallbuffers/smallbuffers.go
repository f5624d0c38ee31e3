// Package smallbuffers owns the buffer sizes a held WebSocket is read and
// written through once hijacked from net/http, and the hijack's rebuffering:
// the gateway upgrades with them, and the bench's tuned bare server does
// too, so that the ceiling it measures has the very same buffers.
package smallbuffers

import (
	"bufio"
	"bytes"
	"io"
)

// A held shopper's socket keeps, for as long as it is open, the buffers its
// connection is read and written through. net/http hands a hijacked
// connection over with 4 KiB for each; a shopper sends a few dozen bytes at a
// time and is sent a few hundred, so those 8 KiB were most of what an idle
// shopper cost. These are enough: a message larger than the write buffer
// goes out in one more write, one larger than the read buffer in more reads.
const (
	ReadBuffer  = 512
	WriteBuffer = 1024
)

// Rebuffer replaces the buffers net/http hijacked a connection with (brw) by
// small ones: reads come from r, writes go to w (the connection, or a
// wrapper of it the caller writes through). What net/http had already read
// ahead from the client goes into the new reader's buffer, not into a reader
// behind it: coder/websocket takes what is buffered and puts the connection
// itself behind it (its accept.go).
func Rebuffer(brw *bufio.ReadWriter, r io.Reader, w io.Writer) (*bufio.ReadWriter, error) {
	bw := bufio.NewWriterSize(w, WriteBuffer)
	n := brw.Reader.Buffered()
	if n == 0 {
		// Nothing read ahead, as for nearly every client: the reader reads
		// the connection itself, with no reader of what was read ahead in
		// front of it for the socket's whole life.
		return bufio.NewReadWriter(bufio.NewReaderSize(r, ReadBuffer), bw), nil
	}
	early, _ := brw.Reader.Peek(n)
	br := bufio.NewReaderSize(io.MultiReader(bytes.NewReader(bytes.Clone(early)), r), max(ReadBuffer, n))
	if _, err := br.Peek(n); err != nil {
		return nil, err
	}
	return bufio.NewReadWriter(br, bw), nil
}
