package waitingroom

import (
	"context"
	"testing"

	"github.com/redis/go-redis/v9"
)

// TestReadingASalesStatusBoxesNoFieldName: the status of a sale is read at
// every arrival and every push tick, and go-redis's HMGet boxes each field
// name it is given, a 16-byte object each of its 22, which a storm's
// joins left in the size class a held shopper's own small objects keep
// (docs/performance.md, "Issue 21's levers, sixth session"). The names
// are boxed once, for every read; queuing the read (nothing is sent)
// allocates what varies only.
func TestReadingASalesStatusBoxesNoFieldName(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}) // never dialled: nothing is sent
	t.Cleanup(func() { rdb.Close() })
	ctx := context.Background()
	p := rdb.Pipeline()
	allocs := testing.AllocsPerRun(100, func() {
		pipeStatus(ctx, p, "s_status")
		p.Discard()
	})
	if allocs > 8 {
		t.Errorf("queuing a status read allocates %v objects, want at most 8: the field names' boxes are shared", allocs)
	}
}
