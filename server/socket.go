package server

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/coder/websocket"
	"github.com/gin-gonic/gin"

	"github.com/foyerhq/foyer/internal/fanout"
	"github.com/foyerhq/foyer/internal/wire"
	"github.com/foyerhq/foyer/waitingroom"
)

// readLimit bounds one client message. The largest legal one is a few dozen
// bytes; anything near this is not a shopper.
const readLimit = 4096

// Query parameters of the shopper's WebSocket besides session.
const (
	// newSession as the session asks the server to make one, as POST
	// /v1/sessions would, and send it in the welcome.
	newSession = "new"
	// joinParam=1 joins at once, as a join message would, without waiting
	// for one.
	joinParam = "join"
	// identityParam, with session=new, is the shop's identity token: the
	// session made is the customer's (docs/integration.md, "Known
	// customers"). A URL can be logged on its way, so the token is one
	// that no one can use again: spent on first use and at most 5 minutes
	// long. A client that would rather keep it out of the URL offers it as
	// a subprotocol, IdentityProtocolPrefix and the token, beside foyer.v1.
	identityParam = "identity"
	// inviteParam, with join=1, is the invite code of a shopper joining a
	// sale that admits only whom it invited (docs/integration.md, "Who may
	// join"), as a join message's invite field.
	inviteParam = "invite"
)

// IdentityProtocolPrefix starts the subprotocol that carries a shop's
// identity token to a socket opened with session=new ("identity.<JWT>": a
// JWT's characters are all allowed there). The server never selects it, so
// never echoes it back.
const IdentityProtocolPrefix = "identity."

// offeredIdentity is the identity token among the subprotocols r offers.
func offeredIdentity(r *http.Request) string {
	for _, h := range r.Header.Values("Sec-WebSocket-Protocol") {
		for p := range strings.SplitSeq(h, ",") {
			if token, ok := strings.CutPrefix(strings.TrimSpace(p), IdentityProtocolPrefix); ok {
				return token
			}
		}
	}
	return ""
}

// arrivalQuery reads what a socket's or a stream's URL asks of the arrival:
// whether to join at once, and with which invite code (only with join=1).
// A bad one is refused before anything is counted or made.
func arrivalQuery(c *gin.Context) (joinNow bool, invite string, err error) {
	joinNow, err = joinAtOnce(c.Query(joinParam))
	if err != nil {
		return false, "", err
	}
	invite = c.Query(inviteParam)
	if invite != "" && !joinNow {
		return false, "", fmt.Errorf("%w: invite goes with join=1 only", errBadRequest)
	}
	if _, err := passOf(nil, invite, errBadRequest); err != nil {
		return false, "", err
	}
	return joinNow, invite, nil
}

// shopperSocket is a shopper's live connection to one sale (docs/protocol.md).
// With session=new and join=1, a new shopper's whole arrival (session,
// socket, join) is one request: a mobile client on a poor network saves two
// round trips, and a gateway in a storm two requests per shopper.
func (s *Server) shopperSocket(c *gin.Context) {
	joinNow, invite, err := arrivalQuery(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	// The socket is counted from here to the end of its clean-up, so that
	// a draining node waits for it before Redis is closed (fanout.Hub.Run).
	done, ok := s.hub.Track()
	if !ok {
		s.drainingSocket(c)
		return
	}
	served := false
	defer func() {
		if !served {
			done() // after the deferred release below: defers run last first
		}
	}()
	// A session asked for (session=new) is made only once the socket is
	// open and its sale found (open), so that a refused socket makes none
	// and adds nothing to its address's count of sessions; until then only
	// the address's limits apply.
	making := c.Query("session") == newSession
	identityToken := c.Query(identityParam)
	if identityToken == "" {
		identityToken = offeredIdentity(c.Request)
	}
	if identityToken != "" && !making {
		s.fail(c, fmt.Errorf("%w: identity goes with session=new only", errBadRequest))
		return
	}
	var claims sessionClaims
	var sessionErr error
	if !making {
		claims, sessionErr = s.sessionOf(c.Query("session"))
	}
	release, err := s.admitSocket(c, claims.Subject, sessionErr == nil && !making)
	if err != nil {
		s.fail(c, err) // before the upgrade: an HTTP status, code and Retry-After
		return
	}
	handedOff := false
	defer func() {
		if !handedOff {
			release()
		}
	}()
	upgrade := &smallBuffers{ResponseWriter: c.Writer}
	ws, err := websocket.Accept(upgrade, c.Request, &websocket.AcceptOptions{
		Subprotocols:   []string{wire.Subprotocol},
		OriginPatterns: s.cfg.AllowedOrigins,
	})
	if err != nil {
		return // Accept has answered the request with the reason
	}
	ws.SetReadLimit(readLimit)
	// A client that names versions must name ours; one that names none (a
	// plain browser WebSocket) is taken to speak v1.
	if c.Request.Header.Get("Sec-WebSocket-Protocol") != "" && ws.Subprotocol() != wire.Subprotocol {
		s.refuse(c.Request.Context(), ws, errBadVersion, wire.CloseUnsupportedVersion)
		return
	}
	ctx := c.Request.Context()
	// A copy: the parameter is a slice of the request line, session token
	// and all, which the sale id would otherwise keep for the socket's life.
	saleID := strings.Clone(c.Param("sale"))
	if sessionErr != nil {
		s.refuse(ctx, ws, sessionErr, wire.CloseSessionInvalid)
		return
	}
	if !waitingroom.ValidSaleID(saleID) {
		s.refuse(ctx, ws, waitingroom.ErrSaleNotFound, wire.CloseSaleNotFound)
		return
	}
	handedOff = true // open gives the places back if the socket cannot stay
	sess, ok := s.open(c, ws, fanout.SocketFrames(ws, upgrade.conn), saleID, opening{claims: claims, making: making, identity: identityToken, joinNow: joinNow, invite: strings.Clone(invite)}, release)
	if !ok {
		return
	}
	// The connection is hijacked: the handler may return. Reading goes on in
	// a goroutine of its own, whose stack stays small, and the handler's
	// goroutine, request and gin context are freed: an idle shopper costs
	// one small goroutine.
	served = true
	go func() {
		defer done()
		sess.serve(s.hub.Context())
	}()
}

// drainingSocket answers a socket opened on a draining node as the sockets
// it had are answered: going away (1001), reconnect at once elsewhere. It
// touches no shared state: the node is about to close its Redis client.
func (s *Server) drainingSocket(c *gin.Context) {
	ws, err := websocket.Accept(c.Writer, c.Request, &websocket.AcceptOptions{
		Subprotocols:   []string{wire.Subprotocol},
		OriginPatterns: s.cfg.AllowedOrigins,
	})
	if err != nil {
		return // Accept has answered the request with the reason
	}
	ws.Close(websocket.StatusGoingAway, "node draining: reconnect") //nolint:errcheck // the peer may be gone already
}

// socketSession makes the session of a socket opened with session=new (the
// customer's, with an identity token), as POST /v1/sessions would (same limit per address, same count for the signal
// many_identities), and, with count, counts the new shopper's connection
// under its cap like any other; release gives that place back. Without
// count the caller counts it (open's one round trip), and release is nil.
// made is what the welcome tells the client.
func (s *Server) socketSession(c *gin.Context, identityToken string, count bool) (claims sessionClaims, made *madeSessionView, release func(), err error) {
	answer, claims, err := s.mintSession(c, identityToken)
	if err != nil {
		return sessionClaims{}, nil, nil, err
	}
	if count { // else release stays nil: nothing to give back (both)
		release, err = s.acquireConn(c.Request.Context(), shopperConnKey(claims.Subject), s.cfg.Limits.ConnsPerShopper)
		if err != nil {
			return sessionClaims{}, nil, nil, err
		}
	}
	return claims, &madeSessionView{Token: answer.Token, ExpiresAt: answer.ExpiresAt}, release, nil
}

// shopperConnKey is the key a shopper's connections are counted under.
func shopperConnKey(shopper string) string { return "shopper:" + shopper }

// joinAtOnce reads the join parameter: absent, or 1.
func joinAtOnce(v string) (bool, error) {
	switch v {
	case "":
		return false, nil
	case "1":
		return true, nil
	}
	return false, fmt.Errorf("%w: join must be 1 or absent, not %q", errBadRequest, v)
}

// serve reads the client's messages until the connection ends, then takes
// the connection out of its room and starts the shopper's grace period.
//
// An idle shopper's goroutine spends its life waiting in Read, so its stack
// is what an idle shopper costs besides its buffers. Each message is answered
// on a goroutine of its own while this one waits for it (so messages are
// still answered in order): a join's calls grow a stack to 16 KiB or more,
// and Go never shrinks a stack back below four times what is in use, which
// for the read path is more than 2 KiB. Answered here, every shopper's
// reader would keep 8 KiB; answered aside, it stays at the 4 KiB that the
// bare library's readers use. Read is given no context: a context that can
// end costs the library a timer per read, and every way a socket ends (the
// client, the idle timeout, a block, the node draining) closes it, which
// ends Read.
func (ss *session) serve(ctx context.Context) {
	gone := false
	for {
		typ, data, err := ss.conn.Read(context.Background())
		if err != nil {
			ss.ended(err) // closed by the client, by us, by the library (1009) or by a failure: endOf sorts them
			gone = clientGone(err)
			break
		}
		if typ == websocket.MessageText && string(data) == pingMessage {
			ss.ping()
			continue
		}
		answered := make(chan struct{})
		go func() {
			defer close(answered)
			defer ss.recoverMessage()
			ss.onMessage(ctx, typ, data)
		}()
		<-answered
	}
	ss.end(ctx, gone)
}

// recoverMessage ends only this client when answering one of its messages
// panicked: the socket closes with 1011 (internal error), the panic is
// logged with its stack and counted, and the node goes on serving everyone
// else. Deferred on each message's goroutine.
func (ss *session) recoverMessage() {
	if v := recover(); v != nil {
		ss.panicked(v)
	}
}

// panicked closes a socket whose answer panicked with v (1011), and logs
// and counts it.
func (ss *session) panicked(v any) {
	ss.s.metrics.panics.Inc()
	ss.s.deps.Log.Error("answering a shopper's message panicked", "sale", ss.saleID, "shopper", ss.shopper,
		"panic", v, "stack", string(debug.Stack()))
	ss.conn.Close(websocket.StatusInternalError, "internal error")
}

// end closes the connection (without a closing handshake when the client
// is gone: clientGone), records the shopper's departure and gives back the
// connection's places under the caps.
func (ss *session) end(ctx context.Context, gone bool) {
	defer ss.release()
	if gone {
		ss.conn.Gone()
	} else {
		ss.conn.Close(websocket.StatusNormalClosure, "")
	}
	if !ss.room.Remove(ss.conn) {
		return
	}
	// The node may be stopping, but the departure must still be recorded.
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
	defer cancel()
	if err := ss.s.deps.Presence.Depart(dctx, ss.saleID, ss.shopper); err != nil {
		ss.s.deps.Log.Warn("record departure", "sale", ss.saleID, "shopper", ss.shopper, "err", err)
	}
}

// refuse tells a client why it cannot stay, then closes with a code it acts on.
func (s *Server) refuse(ctx context.Context, ws peer, err error, code websocket.StatusCode) {
	p := s.told(overWS, err)
	wctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	_ = ws.Write(wctx, websocket.MessageText, encode(errorMsg{Type: wire.MsgError, Code: p.code, Message: describe(p, err),
		RetryAfter: retryAfterOf(err)}))
	ws.Close(code, p.code) //nolint:errcheck // the peer may be gone already
}

func (s *Server) sendError(c *fanout.Conn, err error) {
	if problemFor(err) == internalProblem {
		s.deps.Log.Error("shopper request failed", "shopper", c.Shopper(), "err", err)
	}
	c.Enqueue(s.encodeError(err))
}

// decodeClientMsg reads one message from a client: a JSON object of a type
// the protocol knows, or errBadMessage saying what is wrong with it.
func decodeClientMsg(data []byte) (wire.ClientMsg, error) {
	var m wire.ClientMsg
	if err := json.Unmarshal(data, &m); err != nil {
		return wire.ClientMsg{}, fmt.Errorf("%w: not a JSON object: %v", errBadMessage, err)
	}
	if !slices.Contains(wire.ClientMessageTypes, m.Type) {
		return wire.ClientMsg{}, fmt.Errorf("%w: unknown type %q", errBadMessage, m.Type)
	}
	return m, nil
}

// session is one connection's conversation with the server. Every held shopper keeps one, so its size counts: at most 176
// bytes (TestASessionFitsASizeClassTheJoinLeavesEmpty says why).
type session struct {
	s       *Server
	saleID  string
	shopper string
	conn    *fanout.Conn
	room    *fanout.Room
	release func() // gives back the connection's places under the caps
	addr    netip.Addr
	budget  localBudget
	// mutedUntil is when the last rate_limited this connection was told
	// lapses, in Unix nanoseconds: until then messages over a limit are
	// dropped unanswered, so that a flood cannot fill the connection's
	// queue with refusals. A number, not a time.Time: see
	// TestASessionFitsASizeClassTheJoinLeavesEmpty.
	mutedUntil int64
	// ipSessions is how many sessions the address that made the shopper's
	// session had made by then (the session token says), for many_identities.
	ipSessions int64
	// customer is the shop's own customer id of a session made from the
	// shop's identity token, "" for an anonymous one.
	customer string
	// groups are the shop's groups of a customer's session, shown to join
	// an invited sale; nil for most.
	groups []string
}

// onMessage answers one message from the client.
func (ss *session) onMessage(ctx context.Context, typ websocket.MessageType, data []byte) {
	ss.conn.Heard()
	if typ != websocket.MessageText {
		ss.s.sendError(ss.conn, fmt.Errorf("%w: binary frames are not part of the protocol", errBadMessage))
		return
	}
	m, err := decodeClientMsg(data)
	if err != nil {
		ss.s.sendError(ss.conn, err)
		return
	}
	ss.answer(ctx, m)
}

// answer answers one decoded message from the client, within the
// message budget: a WebSocket's frame, or a message posted to an event
// stream (the HTTP fallback), answered the same way.
func (ss *session) answer(ctx context.Context, m wire.ClientMsg) {
	err := ss.limit(ctx, m)
	if err == nil {
		err = ss.handle(ctx, m) // a join may still be refused by its own limits
	}
	if err != nil {
		if ss.muted(err, time.Now()) {
			return // a limit told once already in this window: dropped, never queued
		}
		ss.s.sendError(ss.conn, err)
	}
}

// asksWork reports whether a sale asking this difficulty makes joins on
// this node carry a proof of work: the node checks proofs when it has a
// guard.
func (s *Server) asksWork(difficulty int) bool { return difficulty > 0 && s.deps.Pow != nil }

// limit applies the message budget to one message before it is handled:
// the per-connection budget for what the node answers alone, the shared
// per-shopper limit for what touches the queue. A join's own defences are
// the join's (join.go).
func (ss *session) limit(ctx context.Context, m wire.ClientMsg) error {
	if m.Type == wire.CmdPing || m.Type == wire.CmdTime {
		return ss.budget.take(time.Now())
	}
	if m.Type == wire.CmdCheckout {
		// The checkout's own limit, as over HTTP, not the shared one's
		// round trip to Redis: an admitted tab's one checkout is
		// charged only to the connection (socketcheckout.go).
		if err := ss.budget.take(time.Now()); err != nil {
			return &inReplyTo{msgType: wire.CmdCheckout, err: err}
		}
		return nil
	}
	return ss.s.allow(ctx, RuleShopperMessages, ss.shopper)
}

// pingMessage is a ping as the clients Foyer makes send it (the page,
// shopperclient): answered on the reader's own goroutine, with no JSON to
// decode and no goroutine to start, since a keepalive is most of what an
// idle shopper sends. Any other spelling of a ping goes the general way.
const pingMessage = `{"type":"` + wire.CmdPing + `"}`

// ping answers a keepalive read as pingMessage, as onMessage would: the
// client is heard, the connection's budget spent, and a pong sent after a
// quiet spell.
func (ss *session) ping() {
	ss.conn.Heard()
	now := time.Now()
	if err := ss.budget.take(now); err != nil {
		if !ss.muted(err, now) {
			ss.s.sendError(ss.conn, err)
		}
		return
	}
	ss.pongIfQuiet()
}

// pongIfQuiet answers a ping when the connection was sent nothing for
// pongAfterQuiet.
func (ss *session) pongIfQuiet() {
	if ss.conn.Quiet(pongAfterQuiet) {
		ss.conn.Enqueue(encode(pongMsg{Type: wire.MsgPong}))
	}
}

// pongAfterQuiet is how long a connection must have been sent nothing for
// a ping to be answered with a pong. Clients ping every 20 s and the node
// closes one silent for a minute; a proxy in front (nginx's
// proxy_read_timeout is a minute by default) closes one the node has sent
// nothing for a minute: answered after 15 s of quiet, a shopper is sent
// something at least every 35 s.
const pongAfterQuiet = 15 * time.Second

func (ss *session) handle(ctx context.Context, m wire.ClientMsg) error {
	if hook := ss.s.hooks.handling; hook != nil {
		hook(m)
	}
	switch m.Type {
	case wire.CmdJoin:
		if _, err := passOf(nil, m.Invite, errBadMessage); err != nil {
			return err
		}
		return ss.join(ctx, joinRequest{way: joinByMessage, pow: m.Pow, invite: m.Invite})
	case wire.CmdLeave:
		waiting, err := ss.s.deps.Rooms.Leave(ctx, ss.saleID, ss.shopper)
		if err != nil {
			return err
		}
		if !waiting {
			return errNotJoined
		}
		ss.room.Left(ss.shopper, ss.conn)
	case wire.CmdResume:
		// The session token is the resume token: a connection with it
		// already found its place. resume asks for the place again.
		knew := ss.room.Asking(ss.conn)
		place, ok, err := ss.s.deps.Rooms.Find(ctx, ss.saleID, ss.shopper)
		if err != nil {
			return err
		}
		if !ok {
			return errNotJoined
		}
		ss.show(ctx, place, knew) // answers this tab even if its position did not fall
	case wire.CmdTime:
		ss.conn.Enqueue(encode(timeMsg{Type: wire.MsgTime, ClientTime: m.ClientTime, ServerTime: time.Now().UnixMilli()}))
	case wire.CmdPing:
		ss.pongIfQuiet()
	case wire.CmdCheckout:
		return ss.checkout(ctx, m)
	default:
		return fmt.Errorf("%w: unknown type %q", errBadMessage, m.Type)
	}
	return nil
}

// newTxn returns a transaction id that follows a shopper's journey from
// join to order through every log line and row.
func newTxn() string { return "t_" + strings.ToLower(rand.Text()) }
