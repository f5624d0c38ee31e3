package app

import (
	"context"
	"fmt"
	"net"
	"time"
)

// sendBufferBytes caps the kernel's send buffer of each accepted connection.
// Linux grows it up to 4 MiB for a client that does not read; with tens of
// thousands of shoppers that is memory held for nobody. A shopper receives
// about one small message a second, so 64 KiB is plenty, and a client that
// stops reading fills it, and is cut off, after a few hundred messages.
const sendBufferBytes = 64 << 10

// keepAlive is the TCP keepalive of accepted connections, Go's default: a
// peer gone without a word (in the middle of a request, where no protocol
// ping runs) is found after 15 s idle and 9 unanswered probes 15 s apart.
var keepAlive = net.KeepAliveConfig{Enable: true, Idle: 15 * time.Second, Interval: 15 * time.Second, Count: 9}

// listen opens the gateway's TCP listener; its connections have capped send
// buffers and keepalive.
func listen(ctx context.Context, addr string) (net.Listener, error) {
	ln, err := listenWithOptions(ctx, addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	return ln, nil
}
