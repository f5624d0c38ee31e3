package server

import (
	"context"
	"errors"
	"time"

	"github.com/coder/websocket"
	"github.com/gin-gonic/gin"

	"github.com/foyerhq/foyer/internal/defence/ratelimit"
	"github.com/foyerhq/foyer/internal/fanout"
	"github.com/foyerhq/foyer/internal/identity"
	"github.com/foyerhq/foyer/internal/wire"
	"github.com/foyerhq/foyer/waitingroom"
)

// peer is a client being opened, as open tells it why it cannot stay: a
// WebSocket (*websocket.Conn), or the HTTP fallback's stream of events
// (sseStream), which tells the same message and close code.
type peer interface {
	Write(ctx context.Context, typ websocket.MessageType, p []byte) error
	Close(code websocket.StatusCode, reason string) error
}

// opening is what a shopper's socket asked for as it opened.
type opening struct {
	claims sessionClaims // the session the socket came with; none when making one
	making bool          // session=new: make the shopper's session
	// identity, when making: the shop's identity token, for a customer's
	// session; empty: anonymous.
	identity string
	joinNow  bool   // join=1: join at once
	invite   string // with joinNow: the invite code the join brings
}

// open brings an upgraded socket into its sale's room: it reads the sale,
// makes the session if asked, welcomes the shopper, then records its arrival
// and answers what it asked. It reports false, having told the client why,
// when the socket cannot stay, and then gives back the socket's places
// under the caps (release), the new shopper's included.
//
// A new shopper joining at once on a node that follows the sale already (no
// proof of work asked) is the whole of a storm: its session is made first,
// then the sale's status, its arrival, its join and its connection's count
// are one round trip (waitingroom.Presence.ArriveAndJoin). Any other socket reads the status
// first, and arrives and joins once welcomed.
func (s *Server) open(c *gin.Context, ws peer, frames fanout.Frames, saleID string, o opening, release func()) (sess *session, ok bool) {
	defer func() {
		if !ok {
			release()
		}
	}()
	// The request's context ends with the hijacked connection's handler.
	ctx := c.Request.Context()
	room := s.hub.Following(saleID)
	fast := o.making && o.joinNow && room != nil && !s.asksWork(room.PowDifficulty())
	var st waitingroom.Status
	if !fast {
		var err error
		if st, err = s.deps.Rooms.StatusShown(ctx, saleID); err != nil {
			s.refuseUnread(ctx, ws, err)
			return nil, false
		}
	}
	claims := o.claims
	var made *madeSessionView
	if o.making {
		var releaseShopper func()
		if claims, made, releaseShopper, ok = s.makeSocketSession(c, ws, o.identity, !fast); !ok {
			return nil, false
		}
		release = both(releaseShopper, release)
	}
	shopper := claims.Subject
	var arrival waitingroom.Arrival
	var joinRefused error // a join the defences refused: told after the welcome
	if fast {
		joinRefused = s.limitJoin(ctx, clientAddr(c), shopper)
		var releaseShopper func()
		if arrival, releaseShopper, ok = s.arriveJoining(ctx, ws, saleID, shopper, joinRefused == nil,
			waitingroom.Pass{Invite: o.invite, Groups: claims.Groups, Customer: claims.CustomerID}); !ok {
			return nil, false
		}
		release = both(releaseShopper, release)
		st = arrival.Status
	}

	conn := fanout.NewStreamConn(frames, shopper, clientAddr(c), s.hub, s.cfg.IdleTimeout)
	conn.SetCustomer(claims.CustomerID)
	// What the socket is told while it opens (the welcome, the join's
	// answer, what the room tells meanwhile) leaves together.
	defer conn.LetOut()
	// The room's difficulty follows the sale's events; before the node
	// follows the sale, the status's is as fresh.
	difficulty := st.PowDifficulty
	if room != nil {
		difficulty = room.PowDifficulty()
	}
	room, ok = s.welcome(ctx, st, conn, made, difficulty)
	if !ok {
		if fast {
			s.departUnwelcomed(ctx, saleID, shopper)
		}
		return nil, false
	}
	sess = &session{s: s, saleID: saleID, shopper: shopper, conn: conn, room: room, release: release,
		addr: clientAddr(c), ipSessions: claims.IPSessions, customer: claims.CustomerID, groups: claims.Groups}
	// What the socket asked as it opened (join=1, its place found again) is
	// answered as a message is: a panic ends this socket alone (1011), and
	// the session is served all the same, so that its reader finds the
	// socket closed and cleans up (end gives the places back).
	defer func() {
		if v := recover(); v != nil {
			sess.panicked(v)
			ok = true
		}
	}()
	if !fast {
		sess.arrive(ctx, made != nil, o.joinNow, o.invite)
		return sess, true
	}
	if arrival.ArriveErr != nil {
		s.sendError(conn, arrival.ArriveErr)
	}
	sess.answerJoinAtOpen(ctx, joinRequest{way: joinWithArrival, refused: joinRefused, arrival: arrival})
	return sess, true
}

// makeSocketSession makes the session a socket asked for (session=new),
// unless the node is draining: a session made now would be lost with the
// socket. With count it counts the connection too (socketSession). A
// refused identity token closes the socket as an invalid session does.
func (s *Server) makeSocketSession(c *gin.Context, ws peer, identityToken string, count bool) (sessionClaims, *madeSessionView, func(), bool) {
	if s.hub.IsDraining() {
		ws.Close(websocket.StatusGoingAway, "node draining: reconnect") //nolint:errcheck // the peer may be gone already
		return sessionClaims{}, nil, nil, false
	}
	claims, made, release, err := s.socketSession(c, identityToken, count)
	if err != nil {
		code := websocket.StatusTryAgainLater
		if errors.Is(err, identity.ErrInvalid) {
			code = wire.CloseSessionInvalid
		}
		s.refuse(c.Request.Context(), ws, err, code)
		return sessionClaims{}, nil, nil, false
	}
	return claims, made, release, true
}

// arriveJoining counts a new shopper's connection under its cap, reads the
// sale's status, records the shopper's arrival and, with join, joins it, in
// one round trip; release gives the connection's place under the cap back.
// When the answer is lost (Redis out of reach or too slow), the scripts may
// have run all the same: the shopper, whose session the client never gets,
// is recorded as gone, so that its grace period runs and no place stays
// held for nobody, and its connection's place is given back.
func (s *Server) arriveJoining(ctx context.Context, ws peer, saleID, shopper string, join bool, pass waitingroom.Pass) (arrival waitingroom.Arrival, release func(), ok bool) {
	var also []waitingroom.Piped
	var count *ratelimit.Counting
	if s.deps.Conns != nil {
		if count = s.deps.Conns.Count(shopperConnKey(shopper), s.cfg.Limits.ConnsPerShopper); count != nil {
			also = append(also, count)
		}
	}
	arrival, err := s.deps.Presence.ArriveAndJoinWith(ctx, saleID, shopper, newTxn(), join, pass, also...)
	release = func() {}
	if count != nil {
		give, countErr := count.Result()
		if err != nil {
			// Refused anyway: a place the count may have taken goes back
			// at once, without the warning of a counter let through.
			release = func() {
				rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
				defer cancel()
				_ = give(rctx) // one that fails is sent again by the counter's next refresh
			}
		} else if release, countErr = s.counted(shopperConnKey(shopper), give, countErr); countErr != nil {
			// A full cap. A new shopper's key holds only this
			// connection, counted once however often it is sent, so
			// this would be a counter gone wrong: refused as Acquire
			// would refuse it.
			release, err = func() {}, countErr
		}
	}
	if err != nil {
		if !errors.Is(err, waitingroom.ErrSaleNotFound) && !errors.Is(err, waitingroom.ErrInvalidShopper) {
			s.departUnwelcomed(ctx, saleID, shopper)
		}
		release()
		s.refuseUnread(ctx, ws, err)
		return waitingroom.Arrival{}, nil, false
	}
	return arrival, release, true
}

// departUnwelcomed records the departure of a shopper recorded as present
// whose socket was then refused: no room will record it.
func (s *Server) departUnwelcomed(ctx context.Context, saleID, shopper string) {
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
	defer cancel()
	if err := s.deps.Presence.Depart(dctx, saleID, shopper); err != nil {
		s.deps.Log.Warn("record departure", "sale", saleID, "shopper", shopper, "err", err)
	}
}

// welcome sends a socket its welcome, then brings it into its sale's room:
// the welcome is queued first, so it is the first message the client reads
// whatever the room tells meanwhile. made is the session made for the
// socket, if one was; difficulty the proof of work its challenge asks. It
// reports false, having closed the socket, when the room cannot take it.
func (s *Server) welcome(ctx context.Context, st waitingroom.Status, conn *fanout.Conn, made *madeSessionView, difficulty int) (*fanout.Room, bool) {
	conn.Told(st.State)
	conn.Enqueue(encode(welcomeMsg{
		Type: wire.MsgWelcome, Protocol: wire.Version, ServerTime: time.Now().UnixMilli(),
		Sale: viewOf(st), You: youView{ShopperID: conn.Shopper(), Session: made},
		Pow: s.challengeFor(st.SaleID, conn.Shopper(), difficulty),
	}))
	if st.State == waitingroom.StateSoldOut {
		conn.Enqueue(encode(fanout.SoldOutMsg{Type: wire.MsgSoldOut}))
	}
	room, err := s.hub.Enter(ctx, st, conn)
	if errors.Is(err, fanout.ErrDraining) {
		conn.CloseAndWait(websocket.StatusGoingAway, "node draining: reconnect")
		return nil, false
	}
	if err != nil {
		// Still opening: closing sends the welcome and the error first.
		s.sendError(conn, err)
		conn.Close(websocket.StatusTryAgainLater, "try again")
		return nil, false
	}
	return room, true
}

// arrive records a welcomed shopper's arrival and answers what its socket
// asked: a shopper coming back finds its place or reservation where it left
// it (one made a moment ago has none), and join=1 joins, with the invite
// code the socket brought.
func (ss *session) arrive(ctx context.Context, madeNow, joinNow bool, invite string) {
	if err := ss.s.deps.Presence.Arrive(ctx, ss.saleID, ss.shopper); err != nil {
		ss.s.sendError(ss.conn, err)
	}
	// The socket asks once, however it asks: a join=1 answered by the
	// arrival's look-up (the reservation the shopper holds) is not answered
	// again with it. It knew nothing as it asked (it has just opened): an
	// admitted event that reached it since is its answer.
	knew := ""
	if !madeNow {
		if place, ok, err := ss.s.deps.Rooms.Find(ctx, ss.saleID, ss.shopper); err != nil {
			ss.s.sendError(ss.conn, err)
		} else if ok {
			ss.show(ctx, place, knew)
		}
	}
	if joinNow {
		way := joinAtOpen
		if madeNow {
			way = joinAtOpenMadeNow
		}
		ss.answerJoinAtOpen(ctx, joinRequest{way: way, invite: invite, knew: &knew})
	}
}

// refuseUnread refuses a socket whose sale's status could not be read.
func (s *Server) refuseUnread(ctx context.Context, ws peer, err error) {
	if errors.Is(err, waitingroom.ErrSaleNotFound) {
		s.refuse(ctx, ws, err, wire.CloseSaleNotFound)
		return
	}
	s.refuse(ctx, ws, err, websocket.StatusTryAgainLater)
}
