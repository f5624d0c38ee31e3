//go:build !linux

package shopperclient

import "syscall"

// portAtConnect does nothing here: IP_BIND_ADDRESS_NO_PORT is Linux's.
func portAtConnect(network, address string, c syscall.RawConn) error { return nil }
