package fanout

import (
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
