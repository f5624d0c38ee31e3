package smallbuffers

import (
	"bufio"
	"bytes"
	"io"
	"strings"
	"testing"
)

// The connection is read and written through buffers of the small sizes,
// and what net/http had read ahead of the hijack is read first.
func TestRebufferKeepsWhatWasReadAheadBehindSmallBuffers(t *testing.T) {
	conn := strings.NewReader(" and the rest")
	hijacked := bufio.NewReadWriter(bufio.NewReaderSize(strings.NewReader("early bytes"), 4096), bufio.NewWriterSize(io.Discard, 4096))
	if _, err := hijacked.Reader.Peek(len("early bytes")); err != nil { // net/http's read-ahead
		t.Fatal(err)
	}
	var written bytes.Buffer
	rw, err := Rebuffer(hijacked, conn, &written)
	if err != nil {
		t.Fatal(err)
	}
	if rw.Reader.Size() != ReadBuffer || rw.Writer.Size() != WriteBuffer {
		t.Errorf("buffers of %d and %d bytes, want %d and %d", rw.Reader.Size(), rw.Writer.Size(), ReadBuffer, WriteBuffer)
	}
	all, err := io.ReadAll(rw)
	if err != nil || string(all) != "early bytes and the rest" {
		t.Errorf("read %q, %v; want what was read ahead, then the connection", all, err)
	}
	rw.WriteString("hello")
	rw.Flush()
	if written.String() != "hello" {
		t.Errorf("wrote %q to the connection, want hello", written.String())
	}
	// More read ahead than the small buffer holds: the buffer grows to
	// hold it rather than lose any.
	big := strings.Repeat("x", 2*ReadBuffer)
	hijacked = bufio.NewReadWriter(bufio.NewReaderSize(strings.NewReader(big), 4096), nil)
	hijacked.Reader.Peek(len(big))
	if rw, err = Rebuffer(hijacked, strings.NewReader(""), io.Discard); err != nil {
		t.Fatal(err)
	}
	if all, _ := io.ReadAll(rw); string(all) != big {
		t.Errorf("read %d bytes of %d read ahead", len(all), len(big))
	}
}
