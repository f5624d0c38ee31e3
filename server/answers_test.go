package server

import (
	"strings"
	"testing"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/foyerhq/foyer/internal/wire"
)

// TestEveryJoinAndResumeIsAnsweredAndALeaveIsAcknowledged: a join on a
// connection that already holds a place gets its position again (the
// protocol says joining twice returns the same place), so does a resume,
// and a leave gets left. Before, the second join got nothing (the room
// pushes only positions lower than the last one shown) and leave nothing.
func TestEveryJoinAndResumeIsAnsweredAndALeaveIsAcknowledged(t *testing.T) {
	n := startTestNode(t, nil)
	n.loadSale(t, "s_answers", 10, false)
	ctx := testContext(t)
	s := n.dial(t, ctx, "s_answers", "session=new")
	s.expect(ctx, wire.MsgWelcome)

	s.send(ctx, `{"type":"join"}`)
	first := s.expect(ctx, wire.MsgPosition)
	s.send(ctx, `{"type":"join"}`)
	if again := s.expect(ctx, wire.MsgPosition); again.Position != first.Position {
		t.Errorf("the second join shows position %d, the first %d", again.Position, first.Position)
	}
	s.send(ctx, `{"type":"resume"}`)
	if resumed := s.expect(ctx, wire.MsgPosition); resumed.Position != first.Position {
		t.Errorf("resume shows position %d, the join %d", resumed.Position, first.Position)
	}
	s.send(ctx, `{"type":"leave"}`)
	s.expect(ctx, wire.MsgLeft)
	s.send(ctx, `{"type":"resume"}`)
	if m := s.expect(ctx, wire.MsgError); m.Code != "not_joined" {
		t.Errorf("resume after leave: %+v, want not_joined", m)
	}
}

// TestABurstOfClockSyncsGetsOneRateLimitedAndTheConnectionStays: 1,000 clock
// syncs (time, budgeted with ping) from a client that reads all the while
// are answered with the budget's 10 answers and one rate_limited; the rest are dropped, not queued, so the
// client is not cut off as too slow (1006) and its next request is
// answered. Before, every ping over the budget queued a rate_limited, the
// 32-message queue filled and the client was cut.
func TestABurstOfClockSyncsGetsOneRateLimitedAndTheConnectionStays(t *testing.T) {
	n := startTestNode(t, nil)
	n.loadSale(t, "s_pings", 10, false)
	ctx := testContext(t)
	s := n.dial(t, ctx, "s_pings", "session=new")
	s.expect(ctx, wire.MsgWelcome)

	const syncs = 1000
	sent := make(chan error, 1)
	go func() {
		for range syncs {
			if err := s.ws.Write(ctx, websocket.MessageText, []byte(`{"type":"time","client_time":1}`)); err != nil {
				sent <- err
				return
			}
		}
		// Handled after every sync: its answer marks the end of theirs.
		sent <- s.ws.Write(ctx, websocket.MessageText, []byte(`{"type":"resume"}`))
	}()
	counts := map[string]int{}
	for {
		m, err := s.read(ctx)
		if err != nil {
			t.Fatalf("after %v: %v (close %d)", counts, err, websocket.CloseStatus(err))
		}
		if m.Type == wire.MsgError && m.Code == "not_joined" {
			break // the resume's answer
		}
		counts[m.Type+"/"+m.Code]++
	}
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	want := map[string]int{wire.MsgTime + "/": localMessages, wire.MsgError + "/rate_limited": 1}
	if len(counts) != len(want) || counts[wire.MsgTime+"/"] != want[wire.MsgTime+"/"] || counts[wire.MsgError+"/rate_limited"] != 1 {
		t.Errorf("%d clock syncs were answered with %v, want %v", syncs, counts, want)
	}
}

// TestAPositionShownOnReconnectingCountsEveryoneWaitingNow: the room reads
// the sale's counters once a second, so the position a reconnecting shopper
// is shown counted the queue as it was up to a second before (5 waiting
// while the queue held 8). The status its socket read on arriving is as
// fresh as can be, and the position counts at least that many.
func TestAPositionShownOnReconnectingCountsEveryoneWaitingNow(t *testing.T) {
	n := startTestNode(t, nil)
	n.loadSale(t, "s_fresh", 10, false)
	ctx := testContext(t)
	first := n.dial(t, ctx, "s_fresh", "session=new")
	session := first.expect(ctx, wire.MsgWelcome).You.Session
	first.send(ctx, `{"type":"join"}`)
	first.expect(ctx, wire.MsgPosition)
	for _, shopper := range []string{"v_b", "v_c", "v_d", "v_e", "v_f", "v_g", "v_h"} {
		if _, err := n.rooms.Join(ctx, "s_fresh", shopper, "t_"+shopper); err != nil {
			t.Fatal(err)
		}
	}
	again := n.dial(t, ctx, "s_fresh", "session="+session.Token)
	again.expect(ctx, wire.MsgWelcome)
	if m := again.expect(ctx, wire.MsgPosition); m.Waiting != 8 {
		t.Errorf("the reconnected shopper is shown %d waiting; the queue holds 8", m.Waiting)
	}
}

// TestAMessageWhoseAnswerPanicsClosesOnlyItsSocketWith1011: a panic while
// answering one message (here injected by the test's hook) must not take the
// node down with every socket it holds: that socket closes with 1011, the
// panic is logged with its stack and counted, and the other sockets are
// served as before. Before, the panic ended the process.
func TestAMessageWhoseAnswerPanicsClosesOnlyItsSocketWith1011(t *testing.T) {
	n := startTestNode(t, func(s *Server) {
		s.hooks.handling = func(m wire.ClientMsg) {
			if m.Type == wire.CmdResume {
				panic("a bug in answering resume")
			}
		}
	})
	n.loadSale(t, "s_panic", 10, false)
	ctx := testContext(t)
	victim := n.dial(t, ctx, "s_panic", "session=new")
	victim.expect(ctx, wire.MsgWelcome)
	other := n.dial(t, ctx, "s_panic", "session=new")
	other.expect(ctx, wire.MsgWelcome)

	victim.send(ctx, `{"type":"resume"}`)
	if _, err := victim.read(ctx); websocket.CloseStatus(err) != websocket.StatusInternalError {
		t.Fatalf("the socket whose message panicked: %v, want close 1011", err)
	}
	other.send(ctx, `{"type":"time","client_time":1}`)
	other.expect(ctx, wire.MsgTime)
	if got := counterValue(t, n.s.metrics.panics); got != 1 {
		t.Errorf("%v panics counted, want 1", got)
	}
	if logs := n.logs.String(); !strings.Contains(logs, "a bug in answering resume") || !strings.Contains(logs, "recoverMessage") {
		t.Errorf("the panic was not logged with its stack:\n%s", logs)
	}
}

func counterValue(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

// TestAJoinAtOpeningWhoseAnswerPanicsClosesOnlyItsSocketWith1011: join=1 is
// answered while the socket opens, on the request's goroutine, not a
// message's; a panic there too ends only that socket (1011), whose session
// still cleans up, and the node serves the next socket.
func TestAJoinAtOpeningWhoseAnswerPanicsClosesOnlyItsSocketWith1011(t *testing.T) {
	n := startTestNode(t, func(s *Server) {
		s.hooks.handling = func(m wire.ClientMsg) {
			if m.Type == wire.CmdJoin {
				panic("a bug in answering join")
			}
		}
	})
	n.loadSale(t, "s_panic_open", 10, false)
	ctx := testContext(t)
	victim := n.dial(t, ctx, "s_panic_open", "session=new&join=1")
	victim.expect(ctx, wire.MsgWelcome)
	if _, err := victim.read(ctx); websocket.CloseStatus(err) != websocket.StatusInternalError {
		t.Fatalf("the socket whose join panicked: %v, want close 1011", err)
	}
	other := n.dial(t, ctx, "s_panic_open", "session=new")
	other.expect(ctx, wire.MsgWelcome)
	other.send(ctx, `{"type":"time","client_time":1}`)
	other.expect(ctx, wire.MsgTime)
	if got := counterValue(t, n.s.metrics.panics); got != 1 {
		t.Errorf("%v panics counted, want 1", got)
	}
}

// TestAPingIsAnsweredOnlyByAConnectionSentNothingLately: a shopper pushed
// news every second needs no pong to know its connection lives, and a pong
// to each ping was half of what an idle shopper cost the node; a ping just
// after the welcome is not answered (the time asked after it is the next
// message), one after a quiet spell is (fanout's TestAConnIsQuietOnlyAfterAQuietSpell).
func TestAPingIsAnsweredOnlyByAConnectionSentNothingLately(t *testing.T) {
	n := startTestNode(t, nil)
	n.loadSale(t, "s_quiet", 10, false)
	ctx := testContext(t)
	s := n.dial(t, ctx, "s_quiet", "session=new")
	s.expect(ctx, wire.MsgWelcome)
	s.send(ctx, `{"type":"ping"}`)
	s.send(ctx, `{"type":"time","client_time":1}`)
	s.expect(ctx, wire.MsgTime)
}

// TestPingsSpendTheConnectionsBudgetToo: a ping as the clients send it is
// answered on the reader's goroutine, past the general path; it still
// spends the connection's budget, and the one past it is told rate_limited.
func TestPingsSpendTheConnectionsBudgetToo(t *testing.T) {
	n := startTestNode(t, nil)
	n.loadSale(t, "s_pingbudget", 10, false)
	ctx := testContext(t)
	s := n.dial(t, ctx, "s_pingbudget", "session=new")
	s.expect(ctx, wire.MsgWelcome)
	for range localMessages + 1 {
		s.send(ctx, `{"type":"ping"}`)
	}
	if m := s.expect(ctx, wire.MsgError); m.Code != "rate_limited" {
		t.Errorf("the ping past the budget was answered %+v, want rate_limited", m)
	}
}
