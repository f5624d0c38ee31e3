package app

import (
	"context"
	"net"
	"syscall"
)

// listenWithOptions sets the options of accepted connections on the
// listening socket, which Linux copies to each connection it accepts: set on
// each connection instead, as Go does, they cost every accept five system
// calls (four for the keepalive, one for the buffer). In a join storm
// accepts are most of a gateway's work.
func listenWithOptions(ctx context.Context, addr string) (net.Listener, error) {
	lc := net.ListenConfig{
		KeepAlive: -1, // set on the listener below, not again on each connection
		Control: func(_, _ string, c syscall.RawConn) error {
			return c.Control(func(fd uintptr) {
				for _, o := range []struct{ level, name, value int }{
					{syscall.SOL_SOCKET, syscall.SO_KEEPALIVE, 1},
					{syscall.IPPROTO_TCP, syscall.TCP_KEEPIDLE, int(keepAlive.Idle.Seconds())},
					{syscall.IPPROTO_TCP, syscall.TCP_KEEPINTVL, int(keepAlive.Interval.Seconds())},
					{syscall.IPPROTO_TCP, syscall.TCP_KEEPCNT, keepAlive.Count},
					{syscall.SOL_SOCKET, syscall.SO_SNDBUF, sendBufferBytes},
				} {
					// Best effort, as Go's own keepalive is: a gateway whose
					// kernel refuses an option still serves.
					_ = syscall.SetsockoptInt(int(fd), o.level, o.name, o.value)
				}
			})
		},
	}
	return lc.Listen(ctx, "tcp", addr)
}
