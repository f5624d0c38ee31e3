package server

import (
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// postToStream takes one client message for an event stream (the HTTP
// fallback's client → server half): the body is the message a WebSocket
// frame would carry, the stream named by its key (?stream=), the shopper
// by its session token (Authorization: Bearer). A message the stream can
// take is answered 204 at once, and what it asks is answered on the stream,
// in the order posted, as on a socket: the join's place, not_joined, a
// rate_limited. A request that cannot reach a stream is refused with the
// HTTP status and code of the one error table, and nothing is done: a bad
// key or body (400 bad_request, 413 too_large, 400 bad_message), no valid
// session (401 session_invalid), a stream this node does not hold for the
// shopper (404 stream_unknown, another shopper's included).
//
// The per-address limit on HTTP requests is not charged for a message the
// stream takes: those are a socket's frames, limited as a socket's are (the
// per-connection budget of pings and time requests, the per-shopper one of
// the rest), and a proxy that blocks WebSockets is the very place many
// shoppers share an address. A refused post is charged, so that a flood of
// posts that reach no stream is limited as any request is.
func (s *Server) postToStream(c *gin.Context) {
	key := c.Query(streamParam)
	if err := validStreamKey(key); err != nil {
		s.refusePost(c, err)
		return
	}
	token, _ := strings.CutPrefix(c.GetHeader("Authorization"), "Bearer ")
	claims, err := s.sessionOf(token)
	if err != nil {
		s.refusePost(c, err)
		return
	}
	// A message is bounded as a socket's frame is (readLimit), not as the
	// shopper API's bodies are.
	data, err := io.ReadAll(io.LimitReader(c.Request.Body, readLimit+1))
	if err != nil {
		s.refusePost(c, fmt.Errorf("%w: read message: %v", errBadRequest, err))
		return
	}
	if len(data) > readLimit {
		c.Header("Connection", "close") // the rest is never read
		s.refusePost(c, fmt.Errorf("%w: a message is at most %d bytes", errTooLarge, readLimit))
		return
	}
	st, sess, err := s.streams.of(c.Request.Context(), key, claims.Subject)
	if err == nil && sess.saleID != c.Param("sale") {
		err = errStreamUnknown
	}
	if err != nil {
		s.refusePost(c, err)
		return
	}
	m, err := decodeClientMsg(data)
	if err != nil {
		s.refusePost(c, err)
		return
	}
	st.answering.Lock()
	defer st.answering.Unlock()
	if st.isEnded() {
		s.fail(c, errStreamUnknown) // it ended while the message came
		return
	}
	func() {
		defer sess.recoverMessage()
		sess.conn.Heard()
		// The node's context, as a socket's messages have: a join is not
		// cut short because its POST's client stopped waiting.
		sess.answer(s.hub.Context(), m)
	}()
	c.Status(http.StatusNoContent)
}

// refusePost answers a post refused with err, and charges it to the
// client's address as any request is: over the limit, it is told so instead.
func (s *Server) refusePost(c *gin.Context, err error) {
	if limited := s.allow(c.Request.Context(), RuleIPRequests, c.ClientIP()); limited != nil {
		err = limited
	}
	s.fail(c, err)
}

// isStreamPost reports whether r posts a message to an event stream
// (POST /v1/sales/{sale}/events).
func isStreamPost(r *http.Request) bool {
	if r.Method != http.MethodPost {
		return false
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/v1/sales/")
	sale, ok2 := strings.CutSuffix(rest, "/events")
	return ok && ok2 && sale != "" && !strings.Contains(sale, "/")
}
