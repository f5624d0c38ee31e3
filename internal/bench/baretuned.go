package bench

import (
	"bufio"
	"net"
	"net/http"

	"github.com/foyerhq/foyer/internal/smallbuffers"
)

// The tuned bare server (`foyer-bench bare -tuned`) is the ceiling of the
// gateway's memory as the gateway is built: the same small stacks (both
// run under internal/smallstacks) and the same buffers on the hijacked
// connection (internal/smallbuffers), where the default bare server keeps
// the 4 KiB each that net/http hands over. The memory target is
// held against it.

// smallHijack is the response writer of the tuned bare server's upgrade:
// its Hijack hands the connection over rebuffered as the gateway's is.
type smallHijack struct {
	http.ResponseWriter
}

// Hijack takes the connection from net/http with small buffers.
func (w smallHijack) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	rw, err := smallbuffers.Rebuffer(brw, conn, conn)
	if err != nil {
		conn.Close()
		return nil, nil, err
	}
	return conn, rw, nil
}
