package app

import (
	"context"
	"fmt"
	"net"
)

// sendBufferBytes caps the kernel's send buffer of each accepted connection.
// Linux grows it up to 4 MiB for a client that does not read; with tens of
// thousands of shoppers that is memory held for nobody. A shopper receives
// about one small message a second, so 64 KiB is plenty, and a client that
// stops reading fills it, and is cut off, after a few hundred messages.
const sendBufferBytes = 64 << 10

// listen opens the gateway's TCP listener; its connections have capped send
// buffers.
func listen(ctx context.Context, addr string) (net.Listener, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	return cappedListener{ln}, nil
}

type cappedListener struct{ net.Listener }

func (l cappedListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		// Best effort: a connection whose buffer cannot be capped still works.
		_ = tc.SetWriteBuffer(sendBufferBytes)
	}
	return c, err
}
