package server

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/foyerhq/foyer/internal/wire"
	"github.com/foyerhq/foyer/waitingroom"
)

// TestADrawOfFifteenThousandShoppersDelaysNoSocketOpening: a sale's draw
// reads the tickets of every prequeue shopper on the node from Redis (a
// round trip per thousand) and tells each its position. It used to do that
// holding the room's lock, and the hub's lock waited behind it (the room's
// own once-a-second tick retires idle rooms holding the hub's lock, then
// takes the room's), so one sale's draw stalled the socket openings of every
// sale on the node.
//
// How the test shows it without timing anything: 15,000 shoppers really
// join the sale's prequeue in Redis, and the real admitter draws them. On
// the node, one real socket and 15,000 in-process connections (registered in
// the room directly: 15,000 sockets would not fit one test process) wait in
// the room. The test's hook holds the draw at its Redis read of the tickets
// until the test lets it go. While it is held, the room's tick runs to its
// end, a socket of another sale opens and joins, and a socket of the drawing
// sale itself opens: each of these completes before the draw is let go,
// which could not happen if the draw held a lock they need. Then the draw
// goes on and every shopper is told its position.
func TestADrawOfFifteenThousandShoppersDelaysNoSocketOpening(t *testing.T) {
	const shoppers = 15000
	drawing := make(chan struct{})
	release := make(chan struct{})
	releaseOnce := sync.OnceFunc(func() { close(release) })
	t.Cleanup(releaseOnce) // a failed test lets the draw go too
	n := startTestNode(t, func(s *Server) {
		s.hub.hooks.readingTickets = func(saleID string) {
			if saleID == "s_draw" {
				close(drawing)
				<-release
			}
		}
	})
	n.loadSale(t, "s_draw", 100, true)
	n.loadSale(t, "s_other", 100, false)
	ctx := testContext(t)

	first := n.dial(t, ctx, "s_draw", "session=new&join=1")
	first.expect(ctx, wire.MsgWelcome)
	first.expect(ctx, wire.MsgPrequeue)
	room := n.s.hub.following("s_draw")

	names := make([]string, shoppers)
	var joins errgroup.Group
	joins.SetLimit(8)
	for i := range names {
		names[i] = fmt.Sprintf("v_draw%05d", i)
		joins.Go(func() error {
			_, err := n.rooms.Join(ctx, "s_draw", names[i], "t_"+names[i])
			return err
		})
	}
	if err := joins.Wait(); err != nil {
		t.Fatal(err)
	}
	tabs := make([]*conn, shoppers)
	for i, name := range names {
		tabs[i] = &conn{shopper: name, status: connPrequeue, held: true, metrics: n.s.hub.metrics}
		if !room.register(tabs[i], waitingroom.Status{SaleID: "s_draw"}) {
			t.Fatal("the room refused a connection")
		}
	}
	t.Cleanup(func() { // before the node stops: these have no socket to close
		releaseOnce() // a failed test lets the draw go first
		for _, c := range tabs {
			room.remove(c)
		}
	})

	// The start comes: the real admitter opens the sale and draws.
	meta := waitingroom.Keys("s_draw").Meta
	if err := n.rdb.HSet(ctx, meta, "starts_at_ms", time.Now().UnixMilli()).Err(); err != nil {
		t.Fatal(err)
	}
	admitter := waitingroom.NewAdmitter(n.rdb, "node-test", slog.New(slog.NewTextHandler(io.Discard, nil)))
	admitter.Tick = 20 * time.Millisecond
	actx, stopAdmitter := context.WithCancel(context.Background())
	admitted := make(chan struct{})
	go func() { _ = admitter.Run(actx); close(admitted) }()
	t.Cleanup(func() { stopAdmitter(); <-admitted })

	select {
	case <-drawing:
	case <-ctx.Done():
		t.Fatal("the room never started placing the drawn shoppers")
	}
	// The draw is held at its Redis read. Everything below must complete
	// before it is let go.
	ticked := make(chan struct{})
	go func() { room.tick(time.Now()); close(ticked) }()
	select {
	case <-ticked:
	case <-ctx.Done():
		t.Fatal("the drawing room's tick waited for the draw")
	}
	other := n.dial(t, ctx, "s_other", "session=new&join=1")
	other.expect(ctx, wire.MsgWelcome)
	other.expect(ctx, wire.MsgPosition)
	same := n.dial(t, ctx, "s_draw", "session=new")
	same.expect(ctx, wire.MsgWelcome)
	select {
	case <-release:
		t.Fatal("the draw was let go before the openings completed")
	default:
	}

	releaseOnce()
	for {
		m := first.next(ctx)
		if m.Type == wire.MsgPosition {
			break // placed in the same pass as every other drawn shopper
		}
	}
	room.lock(func() {
		for i, c := range tabs {
			if c.status != connWaiting || c.lastPos <= 0 || len(c.queue) == 0 {
				t.Fatalf("drawn shopper %d: status %v, position %d, %d messages", i, c.status, c.lastPos, len(c.queue))
			}
		}
	})
}
