package fanout

import (
	"net/netip"

	"github.com/foyerhq/foyer/internal/wire"
)

// CloseBlocked closes the connections blocked reports true for, with close
// code wire.CloseBlocked, and reports how many. It looks at every
// connection of the node, O(connections) for each change of the blocklist:
// a change is an operator's action, a few a day, not a hot path, and the
// check of one connection is two map lookups in memory. A socket still being
// opened (not yet in its room) is missed, but it passed the blocklist a
// moment before, and its joins are checked again.
func (h *Hub) CloseBlocked(blocked func(ip netip.Addr, shopper string) bool) int {
	n := 0
	for _, r := range h.rooms() {
		r.mu.Lock()
		for c := range r.conns {
			if blocked(c.addr, c.shopper) {
				c.Close(wire.CloseBlocked, "blocked")
				n++
			}
		}
		r.mu.Unlock()
	}
	return n
}
