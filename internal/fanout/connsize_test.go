package fanout

import (
	"testing"
	"unsafe"
)

// TestAConnFitsASizeClassTheJoinLeavesEmpty keeps a held shopper's Conn at
// most 288 bytes. Go's allocator keeps objects of one size class in the
// same spans, and a span is given back only once all its objects are dead.
// At 344 bytes a Conn was rounded up to the 352-byte class, where each join
// also makes six short-lived objects (net/http's header maps, the query's,
// the welcome's JSON): after a join storm those died and every span of
// the class stayed held by the Conns in it, mostly empty (docs/performance.md,
// "Issue 21's levers, fifth session"). The 288-byte class is one a join
// barely uses.
func TestAConnFitsASizeClassTheJoinLeavesEmpty(t *testing.T) {
	if size := unsafe.Sizeof(Conn{}); size > 288 {
		t.Errorf("a Conn takes %d bytes, want at most 288: what it grew by belongs in a part made when needed (as orderTold)", size)
	}
}
