package app

import (
	"context"
	"net"
	"syscall"
	"testing"
)

// Each accepted connection has the keepalive and the capped send buffer
// that were set once, on the listening socket.
func TestAcceptedConnectionsCarryTheListenersOptions(t *testing.T) {
	ln, err := listen(context.Background(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	accepted, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer accepted.Close()

	// The kernel reports a buffer size its own way (Linux doubles it): the
	// size wanted is what a socket capped by itself reports.
	reference, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer reference.Close()
	if err := reference.(*net.TCPConn).SetWriteBuffer(sendBufferBytes); err != nil {
		t.Fatal(err)
	}
	for _, o := range []struct {
		name        string
		level, opt  int
		want        int
		wantFromRef bool
	}{
		{"SO_KEEPALIVE", syscall.SOL_SOCKET, syscall.SO_KEEPALIVE, 1, false},
		{"TCP_KEEPIDLE", syscall.IPPROTO_TCP, syscall.TCP_KEEPIDLE, int(keepAlive.Idle.Seconds()), false},
		{"TCP_KEEPINTVL", syscall.IPPROTO_TCP, syscall.TCP_KEEPINTVL, int(keepAlive.Interval.Seconds()), false},
		{"TCP_KEEPCNT", syscall.IPPROTO_TCP, syscall.TCP_KEEPCNT, keepAlive.Count, false},
		{"TCP_NODELAY", syscall.IPPROTO_TCP, syscall.TCP_NODELAY, 1, false},
		{"SO_SNDBUF", syscall.SOL_SOCKET, syscall.SO_SNDBUF, 0, true},
	} {
		want := o.want
		if o.wantFromRef {
			want = sockopt(t, reference, o.level, o.opt)
		}
		if got := sockopt(t, accepted, o.level, o.opt); got != want {
			t.Errorf("%s of an accepted connection is %d, want %d", o.name, got, want)
		}
	}
}

func sockopt(t *testing.T, c net.Conn, level, opt int) int {
	t.Helper()
	raw, err := c.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var v int
	var optErr error
	if err := raw.Control(func(fd uintptr) { v, optErr = syscall.GetsockoptInt(int(fd), level, opt) }); err != nil {
		t.Fatal(err)
	}
	if optErr != nil {
		t.Fatal(optErr)
	}
	return v
}
