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

// TestPushesAreNotLeftBehindNewsForEver: news goes first, but a connection
// waiting with pushes is taken after every newsFirst with news, however
// much news keeps coming, so a shopper reading at full speed is never
// cut off for a queue that filled while the writers served news.
func TestPushesAreNotLeftBehindNewsForEver(t *testing.T) {
	pool := newWritePool(1) // never started: what is scheduled stays in line
	m := newMetrics(nil)
	waiting := &Conn{shopper: "waiting", writers: pool, metrics: m}
	waiting.enqueuePush([]byte(`{"type":"position"}`))
	news := make([]*Conn, 3*newsFirst)
	for i := range news {
		news[i] = &Conn{shopper: "news", writers: pool, metrics: m}
		news[i].Enqueue([]byte(`{"type":"admitted"}`))
	}
	taken := 0
	for {
		c, fromNews := pool.next()
		taken++
		if c == waiting {
			if fromNews {
				t.Fatal("the waiting connection came from the news line")
			}
			break
		}
	}
	if taken != newsFirst+1 {
		t.Errorf("the connection with pushes was taken %d-th, want after %d with news", taken, newsFirst)
	}
	// Then news goes first again.
	if c, fromNews := pool.next(); !fromNews || c.shopper != "news" {
		t.Errorf("after the pushes, the writers took %s (news %v), want news", c.shopper, fromNews)
	}
}
