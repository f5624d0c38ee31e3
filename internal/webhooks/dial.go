package webhooks

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// The address policy (server-side request forgery): an endpoint's URL is
// the operator's or a shop key holder's to choose, and Foyer's workers sit
// inside the operator's network, so a URL must not turn them into a proxy
// to it. Link-local addresses (169.254.0.0/16, fe80::/10: cloud metadata
// services live there), unspecified and multicast ones are never dialled.
// Loopback, private (RFC 1918, fc00::/7) and shared (100.64.0.0/10)
// addresses are dialled only when AllowPrivate is on
// (FOYER_WEBHOOK_ALLOW_PRIVATE), for a shop on the same host or network.
// The check runs on the address actually dialled, after DNS, so a name that
// resolves (or re-resolves) to a refused address is refused too.

var sharedRange = netip.MustParsePrefix("100.64.0.0/10")

// refusedAddress says why ip may not be dialled, or "".
func refusedAddress(ip net.IP, allowPrivate bool) string {
	a, ok := netip.AddrFromSlice(ip)
	if !ok {
		return "not an IP address"
	}
	a = a.Unmap()
	switch {
	case a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast():
		return "link-local (where metadata services live): never allowed"
	case a.IsUnspecified() || a.IsMulticast() || a.IsInterfaceLocalMulticast():
		return "unspecified or multicast: never allowed"
	case allowPrivate:
		return ""
	case a.IsLoopback():
		return "loopback (set FOYER_WEBHOOK_ALLOW_PRIVATE for a shop on this host)"
	case a.IsPrivate() || sharedRange.Contains(a):
		return "private (set FOYER_WEBHOOK_ALLOW_PRIVATE for a shop on this network)"
	}
	return ""
}

// errRefusedAddress is a delivery not sent because of where it would go.
type errRefusedAddress struct{ addr, why string }

func (e errRefusedAddress) Error() string {
	return fmt.Sprintf("address %s refused: %s", e.addr, e.why)
}

// newClient is the HTTP client deliveries go out with: bounded in time,
// never following a redirect (a 3xx is an answer, and not a success: the
// endpoint's URL is what was registered), dialling only allowed addresses.
// It keeps inFlight idle connections to each endpoint, as many as a lane
// sends on at once: with fewer, every batch closed the extra connections
// and dialled them again.
func newClient(timeout time.Duration, allowPrivate bool, inFlight int) *http.Client {
	dialer := &net.Dialer{
		Timeout: timeout,
		Control: func(_, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return err
			}
			if why := refusedAddress(net.ParseIP(host), allowPrivate); why != "" {
				return errRefusedAddress{addr: host, why: why}
			}
			return nil
		},
	}
	transport := &http.Transport{
		Proxy:                 nil, // a proxy would dial for us, past the check
		DialContext:           func(ctx context.Context, n, a string) (net.Conn, error) { return dialer.DialContext(ctx, n, a) },
		TLSHandshakeTimeout:   timeout,
		ResponseHeaderTimeout: timeout,
		MaxIdleConnsPerHost:   inFlight,
		IdleConnTimeout:       90 * time.Second,
	}
	return &http.Client{
		Timeout:       timeout,
		Transport:     transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}
