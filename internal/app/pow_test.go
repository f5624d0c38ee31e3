package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/foyerhq/foyer/internal/defence/pow"
	"github.com/foyerhq/foyer/internal/shopperclient"
	"github.com/foyerhq/foyer/waitingroom"
)

// rawJoin sends a join by hand, with a proof of work when challenge is set,
// so that tests choose what the server gets (Conn.Join solves by itself).
func rawJoin(t *testing.T, ctx context.Context, conn *shopperclient.Conn, challenge, solution string) {
	t.Helper()
	msg := map[string]any{"type": "join"}
	if challenge != "" {
		msg["pow"] = map[string]string{"challenge": challenge, "solution": solution}
	}
	if err := conn.Send(ctx, msg); err != nil {
		t.Fatal(err)
	}
}

// solved is the solution of a challenge, as a client finds it.
func solved(t *testing.T, challenge string) string {
	t.Helper()
	solution, err := pow.Solve(challenge)
	if err != nil {
		t.Fatal(err)
	}
	return solution
}

// expectPowError waits for an error, checks its code, and returns the fresh
// challenge it must carry.
func expectPowError(t *testing.T, ctx context.Context, conn *shopperclient.Conn, code string, difficulty int) string {
	t.Helper()
	m := expectMessage(t, ctx, conn, "error")
	if m.Code != code {
		t.Fatalf("error %s (%s), want %s", m.Code, m.Message, code)
	}
	if m.Pow == nil || m.Pow.Challenge == "" || m.Pow.Difficulty != difficulty {
		t.Fatalf("%s carries the challenge %+v, want a fresh one of difficulty %d", code, m.Pow, difficulty)
	}
	return m.Pow.Challenge
}

// queueLength counts the shoppers in a sale's queue, as Redis has them.
func (s *system) queueLength(t *testing.T, saleID string) int64 {
	t.Helper()
	n, err := s.Redis.ZCard(context.Background(), waitingroom.Keys(saleID).Queue).Result()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestWithoutProofOfWorkAJoinNeedsNoSolution(t *testing.T) {
	sys := startSystem(t)
	saleID := sys.createSale(t, map[string]any{"sku": "P-0", "name": "No pow", "stock": 5, "outflow_per_second": stalled})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, _ := connectNew(t, ctx, sys.URL, saleID)
	if m := expectMessage(t, ctx, conn, "welcome"); m.Pow != nil {
		t.Errorf("the welcome of a sale without proof of work carries %+v", m.Pow)
	}
	rawJoin(t, ctx, conn, "", "")
	if m := expectMessage(t, ctx, conn, "position"); m.Position != 1 {
		t.Errorf("position %d, want 1", m.Position)
	}
}

// TestProofOfWorkSwitchedOnLiveGuardsNewJoinsOnEveryNode switches proof of
// work on through one node while another already follows the sale: the next
// shopper on that node must solve a challenge before it gets a place, and
// the shopper already queued keeps its place without one.
func TestProofOfWorkSwitchedOnLiveGuardsNewJoinsOnEveryNode(t *testing.T) {
	sys := startNodes(t, 2, nil)
	saleID := sys.createSale(t, map[string]any{"sku": "P-1", "name": "Live pow", "stock": 5, "outflow_per_second": stalled})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	early, _ := connectNew(t, ctx, sys.URLs[1], saleID)
	expectMessage(t, ctx, early, "welcome")
	rawJoin(t, ctx, early, "", "")
	expectMessage(t, ctx, early, "position")

	base := "/v1/admin/sales/" + saleID + "/pow"
	for _, bad := range []map[string]any{{"difficulty": -1}, {"difficulty": 25}, {"difficulty": 7.5}, {}} {
		sys.admin(t, http.MethodPut, base, bad, http.StatusUnprocessableEntity)
	}
	sys.admin(t, http.MethodPut, base, map[string]any{"difficulty": 8}, http.StatusOK)

	late, _ := connectNew(t, ctx, sys.URLs[1], saleID)
	welcome := expectMessage(t, ctx, late, "welcome")
	if welcome.Pow == nil || welcome.Pow.Difficulty != 8 || len(welcome.Pow.Challenge) != 79 {
		t.Fatalf("welcome after the switch carries %+v, want a challenge of difficulty 8", welcome.Pow)
	}
	before := sys.queueLength(t, saleID)
	rawJoin(t, ctx, late, "", "")
	fresh := expectPowError(t, ctx, late, "pow_required", 8)
	if after := sys.queueLength(t, saleID); after != before {
		t.Fatalf("a join without proof of work changed the queue: %d -> %d", before, after)
	}
	rawJoin(t, ctx, late, fresh, solved(t, fresh))
	if m := expectMessage(t, ctx, late, "position"); m.Position != 2 {
		t.Errorf("position after a solved join: %d, want 2", m.Position)
	}

	// The shopper queued before the switch joins again, from its tab: no
	// solution asked, its place kept (which resume then repeats).
	rawJoin(t, ctx, early, "", "")
	if err := early.Send(ctx, map[string]string{"type": "resume"}); err != nil {
		t.Fatal(err)
	}
	for {
		m, err := early.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if m.Type == "error" {
			t.Fatalf("joining again with a place: error %s", m.Code)
		}
		if m.Type == "position" {
			if m.Position != 1 {
				t.Errorf("the early shopper's place after joining again: %d, want 1", m.Position)
			}
			break
		}
	}

	var plan struct {
		Plan struct {
			PowDifficulty int `json:"pow_difficulty"`
		} `json:"plan"`
	}
	sys.call(t, http.MethodGet, "/v1/admin/sales/"+saleID, sys.AdminToken, nil, &plan)
	if plan.Plan.PowDifficulty != 8 {
		t.Errorf("the plan's pow_difficulty is %d, want 8", plan.Plan.PowDifficulty)
	}
	var audit struct {
		Entries []struct {
			Action string
			Detail json.RawMessage
		}
	}
	sys.call(t, http.MethodGet, "/v1/admin/audit", sys.AdminToken, nil, &audit)
	if len(audit.Entries) == 0 || audit.Entries[0].Action != "pow" {
		t.Errorf("the audit log's newest entry is %+v, want the pow change", audit.Entries)
	}
}

// TestAProofOfWorkIsSpentOnceAndOnlyByItsShopper replays a solution from
// another tab of the same shopper, after leaving, and from another shopper.
func TestAProofOfWorkIsSpentOnceAndOnlyByItsShopper(t *testing.T) {
	sys := startSystem(t)
	saleID := sys.createSale(t, map[string]any{"sku": "P-2", "name": "Replay", "stock": 5,
		"outflow_per_second": stalled, "pow_difficulty": 8})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	a := newShopper(t, ctx, sys.URL)
	tab1 := a.dial(t, ctx, sys.URL, saleID)
	challenge := expectMessage(t, ctx, tab1, "welcome").Pow.Challenge
	solution := solved(t, challenge)
	rawJoin(t, ctx, tab1, challenge, solution)
	expectMessage(t, ctx, tab1, "position")

	tab2 := a.dial(t, ctx, sys.URL, saleID)
	expectMessage(t, ctx, tab2, "welcome")
	rawJoin(t, ctx, tab2, challenge, solution)
	expectPowError(t, ctx, tab2, "pow_replayed", 8)

	// leave is not answered; a resume after it is, once the leave went through.
	for _, typ := range []string{"leave", "resume"} {
		if err := tab1.Send(ctx, map[string]string{"type": typ}); err != nil {
			t.Fatal(err)
		}
	}
	if m := expectMessage(t, ctx, tab1, "error"); m.Code != "not_joined" {
		t.Fatalf("resume after leave: %s, want not_joined", m.Code)
	}
	rawJoin(t, ctx, tab1, challenge, solution)
	expectPowError(t, ctx, tab1, "pow_replayed", 8)

	b, _ := connectNew(t, ctx, sys.URL, saleID)
	expectMessage(t, ctx, b, "welcome")
	other, _ := connectNew(t, ctx, sys.URL, saleID)
	othersChallenge := expectMessage(t, ctx, other, "welcome").Pow.Challenge
	rawJoin(t, ctx, b, othersChallenge, solved(t, othersChallenge))
	expectPowError(t, ctx, b, "pow_invalid", 8)
	if n := sys.queueLength(t, saleID); n != 0 {
		t.Errorf("%d in the queue after refused joins, want 0", n)
	}
}

// TestTheGoClientDoesTheProofOfWorkByItself runs shopperclient.Shopper
// against a sale that asks for proof of work from the start, and against one
// that starts asking after the shopper was welcomed without a challenge.
func TestTheGoClientDoesTheProofOfWorkByItself(t *testing.T) {
	sys := startSystem(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	join := func(saleID string, beforeJoin func()) shopperclient.Message {
		t.Helper()
		sh := shopperclient.NewShopper([]string{sys.URL}, saleID)
		rctx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { sh.Run(rctx); close(done) }()
		t.Cleanup(func() { stop(); <-done })
		for m := range sh.Messages() {
			switch m.Type {
			case "welcome":
				beforeJoin()
				if err := sh.Join(ctx); err != nil {
					t.Fatal(err)
				}
			case "position":
				return m
			case "error":
				t.Fatalf("the shopper got error %s: %s", m.Code, m.Message)
			}
		}
		t.Fatal("the shopper stopped before it had a place")
		return shopperclient.Message{}
	}
	from := sys.createSale(t, map[string]any{"sku": "P-3", "name": "Go pow", "stock": 5,
		"outflow_per_second": stalled, "pow_difficulty": 12})
	if m := join(from, func() {}); m.Position != 1 {
		t.Errorf("position %d, want 1", m.Position)
	}
	later := sys.createSale(t, map[string]any{"sku": "P-4", "name": "Go pow later", "stock": 5, "outflow_per_second": stalled})
	raise := func() {
		sys.admin(t, http.MethodPut, "/v1/admin/sales/"+later+"/pow", map[string]any{"difficulty": 12}, http.StatusOK)
		// Once a new connection is welcomed with a challenge, the node asks
		// every join for one: the shopper's join must take the retry.
		probe, _ := connectNew(t, ctx, sys.URL, later)
		if m := expectMessage(t, ctx, probe, "welcome"); m.Pow == nil {
			t.Fatal("the node did not hear of the change before the next welcome")
		}
	}
	if m := join(later, raise); m.Position != 1 {
		t.Errorf("position after the retried join: %d, want 1", m.Position)
	}
}

func TestASaleIsCreatedWithAProofOfWorkWithinBounds(t *testing.T) {
	sys := startSystem(t)
	for _, difficulty := range []any{-1, 25, "8"} {
		var out struct{ Error struct{ Code string } }
		status := sys.call(t, http.MethodPost, "/v1/admin/sales", sys.AdminToken,
			map[string]any{"sku": "P-5", "name": "Bounds", "stock": 1, "pow_difficulty": difficulty}, &out)
		if status != http.StatusUnprocessableEntity && status != http.StatusBadRequest {
			t.Errorf("pow_difficulty %v: status %d %s, want a refusal", difficulty, status, out.Error.Code)
		}
	}
	saleID := sys.createSale(t, map[string]any{"sku": "P-5", "name": "Bounds", "stock": 1, "pow_difficulty": 24})
	var stored int
	if err := sys.DB.Get(&stored, `SELECT pow_difficulty FROM sales WHERE id = $1`, saleID); err != nil || stored != 24 {
		t.Errorf("postgres pow_difficulty %d (%v), want 24", stored, err)
	}
}
