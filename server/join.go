package server

import (
	"context"
	"net/netip"

	"github.com/foyerhq/foyer/internal/fanout"
	"github.com/foyerhq/foyer/internal/wire"
	"github.com/foyerhq/foyer/waitingroom"
)

// The join, whichever way it comes: a join message, join=1 as a socket
// opens, or join=1 made in the same round trip as a new shopper's arrival
// (open's fast path). Each way passes the same steps, in session.join:
// limit, prove work, join, flag, show.

// joinWay is how a join came; it decides which of the join's defences it
// still has to pass, and whether the queue still has to be asked.
type joinWay int

const (
	// joinByMessage: a join message, charged the message budget already
	// as every message is (session.limit).
	joinByMessage joinWay = iota
	// joinAtOpen: join=1 from a shopper that came with its session,
	// charged the message budget as the join message it stands for.
	joinAtOpen
	// joinAtOpenMadeNow: join=1 on a socket that made its session: it has
	// sent nothing, so it is not charged the message budget, and has no
	// place to look for.
	joinAtOpenMadeNow
	// joinWithArrival: join=1 on open's fast path, whose defences were
	// passed (or not) before the arrival, and whose join went with it.
	joinWithArrival
)

// atOpen reports whether the join was asked by the socket's opening, so
// cannot carry a proof of work.
func (w joinWay) atOpen() bool { return w == joinAtOpen || w == joinAtOpenMadeNow }

// joinRequest is one join to answer.
type joinRequest struct {
	way joinWay
	pow *wire.PowSolution // joinByMessage: the proof of work the message carries
	// invite is the invite code the join brings (a message's field, or the
	// invite parameter at open), checked by passOf already.
	invite string
	// knew is what the tab knew when its socket asked (Room.Asking), for a
	// join the socket's opening asked; nil: what it knows as the join
	// begins.
	knew *string
	// With joinWithArrival: what the defences said before the arrival,
	// and the arrival, which holds the place or why the queue refused it.
	refused error
	arrival waitingroom.Arrival
}

// join answers a join: it applies the defences, checks the proof of work,
// puts the shopper in the queue (or the prequeue), lets the operators'
// rules on flagged shoppers act, and shows the shopper where it stands
// (knew, what the tab knew as it asked: Room.Asking).
// The error is told to the client by the caller.
//
// A join at open cannot carry a solution: when the sale asks for proof of
// work the answer is the challenge (or the place the shopper has), and the
// defences are left for the join message that carries the solution.
func (ss *session) join(ctx context.Context, req joinRequest) (err error) {
	placed := false
	defer func() { ss.s.countJoin(placed, err) }()
	knew := ss.room.Asking(ss.conn)
	if req.knew != nil {
		knew = *req.knew
	}
	if req.way.atOpen() && ss.s.asksWork(ss.room.PowDifficulty()) {
		// A shopper made a moment ago has no place to look for: straight
		// to the challenge.
		var none *wire.PowSolution
		if req.way == joinAtOpenMadeNow {
			none = &wire.PowSolution{}
		}
		_, err := ss.proveWork(ctx, none, knew)
		return err
	}
	if err := ss.limitJoin(ctx, req.way); err != nil {
		return err
	}
	place, err := ss.enqueue(ctx, req, knew)
	if err != nil || place == nil {
		return err
	}
	placed = true
	ss.joined(ctx, *place, knew)
	return nil
}

// limitJoin applies the defences a join must pass besides the message
// budget, by the way it came: the blocklist, the per-address limit on joins
// and the node's ceiling on joins.
func (ss *session) limitJoin(ctx context.Context, way joinWay) error {
	switch way {
	case joinWithArrival:
		return nil // passed, or refused, before the arrival (enqueue tells which)
	case joinAtOpen:
		if err := ss.s.allow(ctx, RuleShopperMessages, ss.shopper); err != nil {
			return err
		}
	}
	return ss.s.limitJoin(ctx, ss.addr, ss.shopper)
}

// limitJoin is what any join must pass besides the message budget: the
// blocklist, the per-address limit on joins and the node's ceiling.
func (s *Server) limitJoin(ctx context.Context, addr netip.Addr, shopper string) error {
	if err := s.blocked(addr, shopper); err != nil {
		return err
	}
	if err := s.allow(ctx, RuleIPJoins, addr.String()); err != nil {
		return err
	}
	return s.admitJoin()
}

// enqueue checks the join's proof of work and puts the shopper in the
// queue, or takes the place the arrival's round trip gave it. A nil place
// with a nil error means the shopper was answered already (a challenge, or
// the place it had).
func (ss *session) enqueue(ctx context.Context, req joinRequest, knew string) (*waitingroom.Place, error) {
	if req.way == joinWithArrival {
		// The fast path is taken only when the sale asks no proof of work.
		if req.refused != nil {
			return nil, req.refused
		}
		if req.arrival.JoinErr != nil {
			return nil, req.arrival.JoinErr
		}
		return &req.arrival.Place, nil
	}
	if answered, err := ss.proveWork(ctx, req.pow, knew); answered || err != nil {
		return nil, err
	}
	pass := waitingroom.Pass{Invite: req.invite, Groups: ss.groups, Customer: ss.customer}
	place, err := ss.s.deps.Rooms.JoinWith(ctx, ss.saleID, ss.shopper, newTxn(), pass)
	if err != nil {
		return nil, err
	}
	return &place, nil
}

// answerJoinAtOpen answers the join a socket asked for as it opened (join=1)
// as a join message is answered, telling the client any refusal.
func (ss *session) answerJoinAtOpen(ctx context.Context, req joinRequest) {
	if hook := ss.s.hooks.handling; hook != nil {
		hook(wire.ClientMsg{Type: wire.CmdJoin})
	}
	if err := ss.join(ctx, req); err != nil {
		ss.s.sendError(ss.conn, err)
	}
}

// joined tells a shopper that joined where it stands, unless an operator's
// rule on shoppers flagged as automated takes it out.
func (ss *session) joined(ctx context.Context, place waitingroom.Place, knew string) {
	place, removed := ss.flagJoin(ctx, place)
	if removed {
		return // an operator's rule took the shopper out; its tabs were told
	}
	ss.s.deps.Log.Debug("joined", "sale", ss.saleID, "shopper", ss.shopper, "txn", place.Txn,
		"ticket", place.Ticket, "prequeue", place.Prequeue)
	ss.show(ctx, place, knew)
}

// show tells the shopper where it stands: in the prequeue, a position, or
// its reservation. knew is what the tab knew as it asked (Room.Asking): a
// tab told its reservation since has had its answer.
func (ss *session) show(ctx context.Context, place waitingroom.Place, knew string) {
	if place.Prequeue > 0 {
		if ss.room.Prequeued(ss.shopper, place.Prequeue) {
			return
		}
		// Drawn meanwhile: show the place the draw gave.
		drawn, ok, err := ss.s.deps.Rooms.Find(ctx, ss.saleID, ss.shopper)
		if err != nil || !ok || drawn.Prequeue > 0 {
			if err != nil {
				ss.s.sendError(ss.conn, err)
			}
			return
		}
		place = drawn
	}
	if place.Reservation == "" {
		if ss.room.Place(ss.shopper, place.Ticket, place.Position, ss.conn, knew) {
			return
		}
		admitted, ok, err := ss.s.deps.Rooms.Find(ctx, ss.saleID, ss.shopper)
		if err != nil || !ok || admitted.Reservation == "" {
			if err != nil {
				ss.s.sendError(ss.conn, err)
			}
			return
		}
		place = admitted
	}
	res, err := ss.s.deps.Rooms.Reservation(ctx, ss.saleID, ss.shopper, place.Reservation)
	if err != nil {
		ss.s.sendError(ss.conn, err)
		return
	}
	var order fanout.OrderNow
	if res.Status == "confirmed" {
		order = ss.orderNow(ctx, res.ID)
	}
	ss.room.Reservation(ss.shopper, res, ss.conn, knew, order)
}
