package fanout

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/foyerhq/foyer/internal/wire"
	"github.com/foyerhq/foyer/waitingroom"
)

// countingPage is a client as docs/protocol.md tells it to count a
// position down (Fall), in tenths of a tick: a message taken at a tick
// counts from the next one, one taken between ticks a tick after it came.
type countingPage struct {
	pos, told int64 // the last message's position; what the page shows
	fall      *Fall
	at        int // when the last message came, in tenths of a tick
	messages  int // position messages taken
}

// take reads the messages a tick queued for the tab.
func (p *countingPage) take(t *testing.T, c *Conn, tick int) { p.takeAt(t, c, tick*tenthsPerTick) }

// takeAt reads the messages queued for the tab, come at a time in tenths
// of a tick: its positions, and the states that stop a count.
func (p *countingPage) takeAt(t *testing.T, c *Conn, at int) {
	t.Helper()
	for _, raw := range c.queue {
		var m struct {
			PositionMsg
			State waitingroom.State `json:"state"`
		}
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		if m.Type == wire.MsgState && m.State != waitingroom.StateOpen {
			p.showsAt(at)
			p.fall = nil // the count holds until the next position
		}
		if m.Type != wire.MsgPosition {
			continue
		}
		p.messages++
		if p.pos > 0 && m.Position > p.pos {
			t.Fatalf("at %d: a message told %d after %d", at, m.Position, p.pos)
		}
		if p.showsAt(at) == 0 || m.Position < p.told {
			p.told = m.Position // the lower of the count and the message
		}
		p.pos, p.fall, p.at = m.Position, m.Fall, at
	}
	c.queue = nil
}

// shows is the figure the page shows at a tick.
func (p *countingPage) shows(tick int) int64 { return p.showsAt(tick * tenthsPerTick) }

// showsAt is the figure the page shows at a time in tenths of a tick.
func (p *countingPage) showsAt(at int) int64 {
	if p.fall != nil {
		n := max(p.fall.Floor, p.pos-p.fall.PerSecond*int64(max(0, at-p.at-tenthsPerTick))/tenthsPerTick)
		p.told = min(p.told, n)
	}
	return p.told
}

// pageBounds holds a counting page to what docs/protocol.md promises,
// through one queue: what it shows never rises, never falls more than half
// a second of the fastest pace it was told below the position, stands no
// more than two seconds of its pace above it at a tick, and a fall is told
// within farBackTicks.
type pageBounds struct {
	seed                uint64
	bestPace, lastShown int64
}

// check holds the page to the bounds at a time in tenths of a tick, the
// queue's true position being truth.
func (b *pageBounds) check(t *testing.T, page *countingPage, truth int64, at int) {
	t.Helper()
	if page.fall != nil {
		b.bestPace = max(b.bestPace, page.fall.PerSecond)
	}
	shown := page.showsAt(at)
	if b.lastShown > 0 && shown > b.lastShown {
		t.Fatalf("seed %d at %d: shown %d after %d", b.seed, at, shown, b.lastShown)
	}
	b.lastShown = shown
	if truth <= 0 {
		return
	}
	if 2*(truth-shown) > b.bestPace {
		t.Fatalf("seed %d at %d: shows %d, position %d: more than half of a pace of %d below", b.seed, at, shown, truth, b.bestPace)
	}
	if f := page.fall; f != nil && at%tenthsPerTick == 0 && shown-truth > max(2*f.PerSecond, f.PerSecond+shown/20) {
		t.Fatalf("seed %d at %d: shows %d, position %d: more than two seconds of a pace of %d above", b.seed, at, shown, truth, f.PerSecond)
	}
	if truth < page.pos && at-page.at > farBackTicks*tenthsPerTick {
		t.Fatalf("seed %d at %d: a fall from %d to %d untold since %d", b.seed, at, page.pos, truth, page.at)
	}
}

// TestASteadyQueueIsCountedDownAndToldEveryFiveTicksFarBack: at a thousand
// places a tick, a tab far back is told its position with a pace to count
// it down, and then only every farBackTicks, to the front; what its page
// shows falls each tick, stays within a second or two of the truth, and
// never passes it.
func TestASteadyQueueIsCountedDownAndToldEveryFiveTicksFarBack(t *testing.T) {
	r := bareRoom(t)
	tabs := map[int64]*Conn{}
	pages := map[int64]*countingPage{}
	for _, ticket := range []int64{40_000, 100_000} {
		tabs[ticket] = r.toldTab("v_"+string(rune('a'+len(tabs))), connWaiting)
		tabs[ticket].ticket = ticket
		pages[ticket] = &countingPage{}
	}
	const ticks = 60
	mark := int64(0)
	for tick := 1; tick <= ticks; tick++ {
		r.tickAt(mark, 1_000_000, 1_000_000-mark, 0)
		for ticket, c := range tabs {
			page := pages[ticket]
			page.take(t, c, tick)
			truth, shown := r.positions.Of(ticket), page.shows(tick)
			if truth <= 0 {
				continue
			}
			if shown < truth {
				t.Fatalf("tick %d: ticket %d shows %d, below its position %d", tick, ticket, shown, truth)
			}
			if tick > 2 && shown-truth > 2_000 {
				t.Errorf("tick %d: ticket %d shows %d, more than two seconds above its position %d", tick, ticket, shown, truth)
			}
			if tick > 2 && page.fall == nil && truth > 1 {
				t.Errorf("tick %d: ticket %d at %d was told no pace", tick, ticket, truth)
			}
		}
		mark += 1_000
	}
	// The first tick tells each tab its place, the second its first fall
	// (a hundredth and more) with a pace; then every farBackTicks.
	if got, most := pages[100_000].messages, 2+ticks/farBackTicks+1; got > most {
		t.Errorf("the tab far back was told %d positions over %d ticks, want at most %d", got, ticks, most)
	}
	// 40,000 is counted to the front too: its admission comes after 40 ticks.
	if got, most := pages[40_000].messages, 2+40/farBackTicks+1; got > most {
		t.Errorf("the tab that reached the front was told %d positions, want at most %d", got, most)
	}
}

// TestACountNeverRunsAheadOfTheQueueHoweverItMoves: whatever the queue
// does (steady, jittery, faster, slower, stopped), a counting page keeps
// within pageBounds.
func TestACountNeverRunsAheadOfTheQueueHoweverItMoves(t *testing.T) {
	for seed := range uint64(40) {
		rng := rand.New(rand.NewPCG(seed, 7))
		r := bareRoom(t)
		c := r.toldTab("v_page", connWaiting)
		c.ticket = 200_000
		page := &countingPage{}
		mark, rate, bounds := int64(0), int64(1+rng.IntN(2_000)), &pageBounds{seed: seed}
		for tick := 1; tick <= 300 && r.positions.Of(c.ticket) > 0; tick++ {
			r.tickAt(mark, 1_000_000, 1_000_000-mark, 0)
			page.take(t, c, tick)
			bounds.check(t, page, r.positions.Of(c.ticket), tick*tenthsPerTick)
			switch rng.IntN(12) {
			case 0:
				rate = 0 // stops: all held, the admitter away
			case 1:
				rate = int64(1 + rng.IntN(3_000))
			case 2:
				rate = max(1, rate/2)
			}
			jitter := int64(0)
			if rate > 10 {
				jitter = rng.Int64N(rate/5) - rate/10
			}
			mark += max(0, rate+jitter)
		}
	}
}

// TestACrowdCountingDownIsToldAFifthATick: a crowd told its first counted
// positions at the same tick (the queue began to move) is told again a
// fifth at each tick, at each tab's beat, not all at once every
// farBackTicks: a second of 15,000 writes held up the admissions queued
// behind them.
func TestACrowdCountingDownIsToldAFifthATick(t *testing.T) {
	const crowd = 5_000
	r := bareRoom(t)
	tabs := make([]*Conn, crowd)
	for i := range tabs {
		tabs[i] = r.toldTab(fmt.Sprintf("v_%d", i), connWaiting)
		tabs[i].ticket = int64(100_000 + i)
	}
	mark := int64(0)
	for tick := 1; tick <= 30; tick++ {
		r.tickAt(mark, 1_000_000, 1_000_000-mark, 0)
		told := 0
		for _, c := range tabs {
			if positionOf(t, c.queue) != 0 {
				told++
			}
			c.queue = nil
		}
		if tick > 3 && told > crowd/farBackTicks+crowd/50 {
			t.Errorf("tick %d: %d of %d tabs told their position, want about a fifth", tick, told, crowd)
		}
		mark += 1_000
	}
}
