package shopperclient

import "syscall"

// ipBindAddressNoPort is Linux's IP_BIND_ADDRESS_NO_PORT (since 4.2), which
// the syscall package does not name.
const ipBindAddressNoPort = 24

// portAtConnect lets the kernel pick a dialling socket's port when it
// connects rather than when it is bound to its source address. Bound first,
// the kernel must find a port no other socket of that address holds, and
// that search grows with the sockets it holds: at 15,000 connections from
// one address, bind took most of the load generator's CPU, and the
// 100,000-shopper run fell apart near 88,000. At connect, a port need only
// be unique for the one destination. Best effort: a socket that refuses
// the option is dialled the slow way.
func portAtConnect(network, address string, c syscall.RawConn) error {
	return c.Control(func(fd uintptr) {
		_ = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IP, ipBindAddressNoPort, 1)
	})
}
