package shopperclient

import (
	"fmt"
	"net"
	"net/http"
	"time"
)

// TransportFrom is an HTTP transport whose connections leave from the source
// IP, for NewWithTransport. On Linux all of 127.0.0.0/8 is local, so one
// machine plays clients from many addresses: one address reaches only some
// 28,000 ports towards one server. An empty source lets the kernel choose.
func TransportFrom(source string) (*http.Transport, error) {
	t := http.DefaultTransport.(*http.Transport).Clone()
	if source == "" {
		return t, nil
	}
	ip := net.ParseIP(source)
	if ip == nil {
		return nil, fmt.Errorf("source address %q is not an IP", source)
	}
	// No TCP keepalive: a Conn pings the server itself, and the keepalive's
	// socket options cost each of thousands of dials four system calls.
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: ip}, Timeout: 30 * time.Second, KeepAlive: -1, Control: portAtConnect}
	t.DialContext = d.DialContext
	return t, nil
}
