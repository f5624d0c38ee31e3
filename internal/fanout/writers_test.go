package fanout

import (
	"slices"
	"testing"

	"github.com/foyerhq/foyer/internal/wire"
)

// TestTheWritersHaveEndedWhenRunReturns: the node's shared writers are
// started by Run and stopped and awaited by it, not left running by New.
func TestTheWritersHaveEndedWhenRunReturns(t *testing.T) {
	n := startTestNode(t, Hooks{})
	n.loadSale(t, "s_writers", 10, false)
	ctx := testContext(t)
	s := n.dial(t, ctx, "s_writers", "v_writers", false)
	s.expect(ctx, wire.MsgWelcome) // written by a writer: they run
	s.ws.CloseNow()
	n.stop()
	select {
	case <-n.hub.writers.done:
	default:
		t.Fatal("Run returned with the writers still running")
	}
}

// TestNewsGoesAheadOfATicksPushes: a big room's tick puts every connection
// in line at once; a connection with news (an admission, another sale's
// stock change) takes a place in the line that goes first, even one that
// waits in the other with pushes, and its place there is given up once a
// writer has written it.
func TestNewsGoesAheadOfATicksPushes(t *testing.T) {
	pool := newWritePool(1) // never started: what is scheduled stays in line
	m := newMetrics(nil)
	conn := func(name string) *Conn { return &Conn{shopper: name, writers: pool, metrics: m} }
	a, b, x, y := conn("a"), conn("b"), conn("x"), conn("y")
	for _, c := range []*Conn{a, b, x} {
		c.enqueuePush([]byte(`{"type":"position"}`))
	}
	x.Enqueue([]byte(`{"type":"admitted"}`)) // waits with pushes already
	y.Enqueue([]byte(`{"type":"stock"}`))
	x.Enqueue([]byte(`{"type":"order"}`)) // one place in the news line is enough

	var order []string
	for len(pool.news)+len(pool.ready) > 0 {
		c, fromNews := pool.next()
		line := "push"
		if fromNews {
			line = "news"
		}
		order = append(order, c.shopper+":"+line)
	}
	want := []string{"x:news", "y:news", "a:push", "b:push", "x:push"}
	if !slices.Equal(order, want) {
		t.Fatalf("the writers took %v, want %v", order, want)
	}
	if x.entries != 2 || !x.inNews || len(x.queue) != 3 {
		t.Fatalf("x has %d places (news %v) and %d queued, want 2, news, 3", x.entries, x.inNews, len(x.queue))
	}
	// Its news place written (as a writer would, without the socket), the
	// place with pushes comes to nothing.
	x.mu.Lock()
	x.entries, x.inNews, x.queue, x.news = 1, false, nil, 0
	x.mu.Unlock()
	x.flush(false)
	if x.entries != 0 || x.writing {
		t.Errorf("after its last place: %d places, writing %v", x.entries, x.writing)
	}
}
