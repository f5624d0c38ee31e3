package blocklist

import (
	"net/netip"
	"sort"
)

// index is one immutable copy of the list, built when the version changes and
// read by every request without a lock.
type index struct {
	version  int64 // -1 before the first load, so that load always happens
	ips      map[netip.Addr]Entry
	shoppers map[string]Entry
	// networks are scanned in order, longest prefix first, so a match names
	// the most specific entry. A scan is fine for the hundreds of networks an
	// operator blocks by hand; for many thousands, keep a map per prefix
	// length and look the masked address up in each instead.
	networks []network
}

type network struct {
	prefix netip.Prefix
	entry  Entry
}

func newIndex(version int64, entries []Entry) *index {
	x := &index{version: version, ips: map[netip.Addr]Entry{}, shoppers: map[string]Entry{}}
	for _, e := range entries {
		// The entries were checked on the way in; a parse error here is a
		// value that canonical would have refused, so it is skipped.
		switch e.Kind {
		case KindIP:
			if a, err := netip.ParseAddr(e.Value); err == nil {
				x.ips[a] = e
			}
		case KindNetwork:
			if p, err := netip.ParsePrefix(e.Value); err == nil {
				x.networks = append(x.networks, network{p, e})
			}
		case KindShopper:
			x.shoppers[e.Value] = e
		}
	}
	sort.SliceStable(x.networks, func(i, j int) bool { return x.networks[i].prefix.Bits() > x.networks[j].prefix.Bits() })
	return x
}

// blocked finds the entry that blocks ip or shopperID: the exact IP first,
// then the shopper, then the networks. A zero ip or an empty shopperID is not
// checked.
func (x *index) blocked(ip netip.Addr, shopperID string) (Entry, bool) {
	ip = ip.Unmap() // a dual-stack listener reports IPv4 clients as ::ffff:a.b.c.d
	if ip.IsValid() {
		if e, ok := x.ips[ip.WithZone("")]; ok {
			return e, true
		}
	}
	if shopperID != "" {
		if e, ok := x.shoppers[shopperID]; ok {
			return e, true
		}
	}
	if ip.IsValid() {
		for _, n := range x.networks {
			if n.prefix.Contains(ip) {
				return n.entry, true
			}
		}
	}
	return Entry{}, false
}
