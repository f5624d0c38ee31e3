package server

import (
	"testing"
	"unsafe"
)

// TestASessionFitsASizeClassTheJoinLeavesEmpty keeps a held shopper's
// session at most 176 bytes. Go's allocator keeps objects of one size class
// in the same spans, and gives a span back only once all its objects are
// dead. At 192 bytes a session shared its class with a short-lived object
// of every join, whose spans a storm then left held by the sessions in
// them, mostly empty; a join allocates nothing of 176 bytes
// (BenchmarkJoinAllocations -v lists the classes a join uses, and
// docs/performance.md, "Issue 21's levers, sixth session", the figures).
func TestASessionFitsASizeClassTheJoinLeavesEmpty(t *testing.T) {
	if size := unsafe.Sizeof(session{}); size > 176 {
		t.Errorf("a session takes %d bytes, want at most 176: what it grew by belongs in a part made when needed", size)
	}
}
