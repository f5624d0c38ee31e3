package server

import (
	"context"

	"github.com/foyerhq/foyer/internal/wire"
)

// JoinGuard asks a joiner for proof of work (docs/pow.md): a challenge bound
// to one sale and one shopper, and its solution checked and spent once.
// *pow.Guard is the one implementation.
type JoinGuard interface {
	// Issue returns a challenge of difficulty leading zero bits; "" for 0.
	Issue(saleID, shopperID string, difficulty int) (string, error)
	// Verify checks a solution and spends its challenge, or returns one of
	// pow.ErrPowRequired, ErrPowInvalid, ErrPowExpired, ErrPowReplayed.
	Verify(ctx context.Context, saleID, shopperID, challenge, solution string) error
}

// challengeFor issues a challenge for this shopper and sale, or nil when the
// sale asks for no proof of work (or the node has no guard).
func (s *Server) challengeFor(saleID, shopper string, difficulty int) *wire.PowChallenge {
	if !s.asksWork(difficulty) {
		return nil
	}
	challenge, err := s.deps.Pow.Issue(saleID, shopper, difficulty)
	if err != nil {
		// Only a difficulty outside the guard's range fails, which the
		// sale's validation rules out.
		s.deps.Log.Error("issue pow challenge", "sale", saleID, "difficulty", difficulty, "err", err)
		return nil
	}
	return &wire.PowChallenge{Challenge: challenge, Difficulty: difficulty}
}

// proveWork decides whether a join may go on to the queue. It answers the
// join itself (answered) when the shopper has a place already, or when the
// proof of work is missing or wrong: then with a pow_* error that carries a
// fresh challenge, and nothing changes in the queue. err is a failure of
// Redis, for the caller to report.
//
// The difficulty is the room's, which follows the sale's event stream: the
// operator's change reaches it as soon as the node reads the event, and a
// join costs no Redis round trip to learn it. A shopper that already has a
// place (rejoining, from another tab) proved itself when it took it, or
// joined while the check was off: it needs no solution.
func (ss *session) proveWork(ctx context.Context, sol *wire.PowSolution, knew string) (answered bool, err error) {
	difficulty := ss.room.PowDifficulty()
	if !ss.s.asksWork(difficulty) {
		return false, nil
	}
	if sol == nil {
		place, ok, err := ss.s.deps.Rooms.Find(ctx, ss.saleID, ss.shopper)
		if err != nil {
			return true, err
		}
		if ok {
			ss.show(ctx, place, knew)
			return true, nil
		}
		sol = &wire.PowSolution{}
	}
	err = ss.s.deps.Pow.Verify(ctx, ss.saleID, ss.shopper, sol.Challenge, sol.Solution)
	if err == nil {
		return false, nil
	}
	p := problemFor(err)
	if p == internalProblem {
		return true, err // told by the caller (sendError), and counted there
	}
	ss.s.count(overWS, p)
	ss.conn.Enqueue(encode(errorMsg{Type: wire.MsgError, Code: p.code, Message: describe(p, err),
		Pow: ss.s.challengeFor(ss.saleID, ss.shopper, difficulty)}))
	return true, nil
}
