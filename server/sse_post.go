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
func (s *Server) postToStream(c *gin.Context) {
	key := c.Query(streamParam)
	if err := validStreamKey(key); err != nil {
		s.fail(c, err)
		return
	}
	token, _ := strings.CutPrefix(c.GetHeader("Authorization"), "Bearer ")
	claims, err := s.sessionOf(token)
	if err != nil {
		s.fail(c, err)
		return
	}
	// A message is bounded as a socket's frame is (readLimit), not as the
	// shopper API's bodies are.
	data, err := io.ReadAll(io.LimitReader(c.Request.Body, readLimit+1))
	if err != nil {
		s.fail(c, fmt.Errorf("%w: read message: %v", errBadRequest, err))
		return
	}
	if len(data) > readLimit {
		c.Header("Connection", "close") // the rest is never read
		s.fail(c, fmt.Errorf("%w: a message is at most %d bytes", errTooLarge, readLimit))
		return
	}
	st, sess, err := s.streams.of(c.Request.Context(), key, claims.Subject)
	if err == nil && sess.saleID != c.Param("sale") {
		err = errStreamUnknown
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	m, err := decodeClientMsg(data)
	if err != nil {
		s.fail(c, err)
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
