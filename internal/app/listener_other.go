//go:build !linux

package app

import (
	"context"
	"net"
)

// listenWithOptions sets the options of each accepted connection as it is
// accepted, where the listening socket's are not known to carry over.
func listenWithOptions(ctx context.Context, addr string) (net.Listener, error) {
	lc := net.ListenConfig{KeepAliveConfig: keepAlive}
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, err
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
