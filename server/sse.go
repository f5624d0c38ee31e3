package server

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/coder/websocket"
	"github.com/gin-gonic/gin"

	"github.com/foyerhq/foyer/internal/wire"
	"github.com/foyerhq/foyer/waitingroom"
)

// streamParam is the query parameter naming an event stream: the key the
// client chose for it, on its GET and on each message it posts to it.
const streamParam = "stream"

// shopperStream is the HTTP fallback of the shopper's WebSocket
// (docs/protocol.md, "The HTTP fallback"), for clients whose WebSockets a
// proxy or network blocks: the same query (session, join, invite,
// identity), the same checks, the same messages in the same order, each a
// server-sent event, and the same close codes, as an `event: close`. The
// client's messages come as POSTs to the stream (postToStream). The stream
// is a fanout.Conn like a socket, in the same room: one place per shopper,
// a place kept across reconnections within grace, positions that never
// rise and admissions pushed, whichever way a shopper is connected.
func (s *Server) shopperStream(c *gin.Context) {
	key := c.Query(streamParam)
	if err := validStreamKey(key); err != nil {
		s.fail(c, err)
		return
	}
	joinNow, invite, err := arrivalQuery(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	making := c.Query("session") == newSession
	identityToken := c.Query(identityParam)
	if identityToken != "" && !making {
		s.fail(c, fmt.Errorf("%w: identity goes with session=new only", errBadRequest))
		return
	}
	// Counted as a socket is, from here to the end of its clean-up: a
	// draining node waits for it.
	done, ok := s.hub.Track()
	if !ok {
		s.drainingStream(c)
		return
	}
	defer done()
	var claims sessionClaims
	var sessionErr error
	if !making {
		claims, sessionErr = s.sessionOf(c.Query("session"))
	}
	release, err := s.admitSocket(c, claims.Subject, sessionErr == nil && !making)
	if err != nil {
		s.fail(c, err) // before the stream begins: an HTTP status, code and Retry-After
		return
	}
	handedOff := false
	defer func() {
		if !handedOff {
			release()
		}
	}()
	st := newSSEStream(key, c.Writer)
	if err := s.streams.add(st); err != nil {
		s.fail(c, err)
		return
	}
	defer s.streams.remove(st)
	defer st.finish() // runs first: no write touches the response once the handler returns
	if err := st.begin(); err != nil {
		return // the client is gone
	}
	ctx := c.Request.Context()
	saleID := c.Param("sale")
	if sessionErr != nil {
		s.refuse(ctx, st, sessionErr, wire.CloseSessionInvalid)
		return
	}
	if !waitingroom.ValidSaleID(saleID) {
		s.refuse(ctx, st, waitingroom.ErrSaleNotFound, wire.CloseSaleNotFound)
		return
	}
	handedOff = true // open gives the places back if the stream cannot stay
	sess, ok := s.open(c, st, st, saleID, opening{claims: claims, making: making, identity: identityToken, joinNow: joinNow,
		invite: strings.Clone(invite)}, release)
	if !ok {
		return
	}
	s.streams.opened(st, sess)
	sess.stream(ctx, st)
}

// stream keeps an open event stream's response until it ends: the node
// closed it (idle, blocked, too slow, draining), or the client went away
// (the request's context). Meanwhile it writes a heartbeat comment after
// each quiet spell, as a WebSocket's pong would be, so that a proxy never
// takes the stream for dead. Then it ends the session as a socket's reader
// does.
func (ss *session) stream(ctx context.Context, st *sseStream) {
	beat := time.NewTicker(pongAfterQuiet)
	defer beat.Stop()
	for running := true; running; {
		select {
		case <-st.closing:
			running = false
		case <-ctx.Done():
			running = false
		case <-beat.C:
			if ss.conn.Quiet(pongAfterQuiet) {
				if err := st.heartbeat(); err != nil {
					running = false
				}
			}
		}
	}
	// Wait for the answer under way, if any, so that it is not written
	// into a response that has ended.
	st.answering.Lock()
	st.finish()
	st.answering.Unlock()
	ss.end(ctx, false) // records the departure under a context of its own: ctx may have ended
}

// drainingStream answers a stream opened on a draining node as a socket is
// answered: going away (1001), reconnect at once elsewhere.
func (s *Server) drainingStream(c *gin.Context) {
	st := newSSEStream("", c.Writer)
	if st.begin() == nil {
		_ = st.Close(websocket.StatusGoingAway, "node draining: reconnect")
	}
	st.finish()
}
