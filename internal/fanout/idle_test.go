package fanout

import (
	"net/netip"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/foyerhq/foyer/internal/wire"
	"github.com/foyerhq/foyer/waitingroom"
)

// closeFrames is a stream that only notes how it was closed.
type closeFrames struct{ closed chan websocket.StatusCode }

func (f closeFrames) WriteFrames([][]byte, time.Duration) error { return nil }
func (f closeFrames) Close(code websocket.StatusCode, _ string) error {
	f.closed <- code
	return nil
}
func (f closeFrames) CloseNow() error { return f.Close(-1, "") }

// TestAHeldConnectionKeepsNoTimerOfItsOwn: a connection's idle clock is a
// note of when its client was last heard, swept by its room (idle.go), not
// a timer per connection: the timer and its closure were 128 bytes every
// held shopper kept.
func TestAHeldConnectionKeepsNoTimerOfItsOwn(t *testing.T) {
	h := &Hub{writers: newWritePool(1), metrics: newMetrics(nil)}
	frames := closeFrames{closed: make(chan websocket.StatusCode, 1)}
	allocs := testing.AllocsPerRun(100, func() {
		NewStreamConn(frames, "v_held", netip.Addr{}, h, time.Minute)
	})
	if allocs != 1 {
		t.Errorf("a new connection allocates %v objects, want 1: the Conn alone", allocs)
	}
}

// sweptRoom is a room whose writers' clock started an hour ago, with one
// connection per name, idle after a minute, heard from at the given times
// since that start.
func sweptRoom(t *testing.T, heard map[string]time.Duration) (*Room, map[string]*Conn, map[string]chan websocket.StatusCode) {
	t.Helper()
	r := bareRoom(t)
	r.h.writers = newWritePool(1)
	r.h.writers.epoch = time.Now().Add(-time.Hour)
	conns := map[string]*Conn{}
	closes := map[string]chan websocket.StatusCode{}
	for name, at := range heard {
		closes[name] = make(chan websocket.StatusCode, 1)
		c := NewStreamConn(closeFrames{closed: closes[name]}, name, netip.Addr{}, r.h, time.Minute)
		c.heardAt.Store(int64(at))
		if !r.register(c, waitingroom.Status{}) {
			t.Fatal("the room refused a connection")
		}
		conns[name] = c
	}
	return r, conns, closes
}

// TestARoomsSweepClosesOnlyTheConnectionsSilentForTheIdleTimeout: a
// connection silent for the idle timeout is closed with wire.CloseIdle by
// the first sweep at or after its deadline, none before it; one heard from
// meanwhile is not closed, and is closed once it has then been silent for
// the timeout; one taken out of the room is never swept.
func TestARoomsSweepClosesOnlyTheConnectionsSilentForTheIdleTimeout(t *testing.T) {
	r, conns, closes := sweptRoom(t, map[string]time.Duration{
		"silent": 10 * time.Minute, "heard": 10 * time.Minute, "gone": 10 * time.Minute,
	})
	r.Remove(conns["gone"])
	r.sweepIdle(10*time.Minute + 59*time.Second)
	for name, c := range conns {
		if c.ClosedHere() {
			t.Fatalf("%s was closed 59 s into a timeout of a minute", name)
		}
	}
	conns["heard"].heardAt.Store(int64(10*time.Minute + 30*time.Second + 500*time.Millisecond))
	r.sweepIdle(11*time.Minute + time.Second)
	if code := <-closes["silent"]; code != wire.CloseIdle {
		t.Errorf("the silent connection was closed with %d, want %d", code, wire.CloseIdle)
	}
	if conns["heard"].ClosedHere() {
		t.Error("a connection heard from 30.5 s ago was closed as idle")
	}
	if conns["gone"].ClosedHere() {
		t.Error("a connection taken out of the room was swept")
	}
	r.sweepIdle(11*time.Minute + 30*time.Second)
	if conns["heard"].ClosedHere() {
		t.Error("a connection heard from 59.5 s ago was closed")
	}
	r.sweepIdle(11*time.Minute + 32*time.Second)
	if code := <-closes["heard"]; code != wire.CloseIdle {
		t.Errorf("the connection silent since it was heard was closed with %d, want %d", code, wire.CloseIdle)
	}
}

// TestAnIdleDeadlineBeyondATurnOfTheWheelIsKept: an idle timeout longer
// than the wheel's turn (idleSlots seconds) shares a slot with nearer
// deadlines; its connection is visited and placed again, not closed early.
func TestAnIdleDeadlineBeyondATurnOfTheWheelIsKept(t *testing.T) {
	r, conns, closes := sweptRoom(t, map[string]time.Duration{"long": 10 * time.Minute})
	c := conns["long"]
	c.idleFor = 5 * time.Minute
	r.idle.remove(c)
	r.idle.add(c, idleSecond(c))
	for now := 10 * time.Minute; now < 15*time.Minute; now += time.Second {
		r.sweepIdle(now)
		if c.ClosedHere() {
			t.Fatalf("closed %s after it was heard, want 5m0s", now-10*time.Minute)
		}
	}
	r.sweepIdle(15 * time.Minute)
	if code := <-closes["long"]; code != wire.CloseIdle {
		t.Errorf("closed with %d, want %d", code, wire.CloseIdle)
	}
}

// TestASweepLateByMoreThanATurnStillClosesEveryoneDue: seconds the sweep
// missed (a stalled process) are swept at its next beat.
func TestASweepLateByMoreThanATurnStillClosesEveryoneDue(t *testing.T) {
	heard := map[string]time.Duration{}
	for i, name := range []string{"a", "b", "c", "d"} {
		heard[name] = 10*time.Minute + time.Duration(i)*17*time.Second
	}
	r, _, closes := sweptRoom(t, heard)
	r.sweepIdle(20 * time.Minute)
	for name, closed := range closes {
		if code := <-closed; code != wire.CloseIdle {
			t.Errorf("%s was closed with %d, want %d", name, code, wire.CloseIdle)
		}
	}
}
