package server

import (
	"crypto/rand"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// The shopper's public HTTP API besides checkout: sessions, a sale's view and its draw.

// sessionTTL is how long an anonymous visitor session lasts.
const sessionTTL = 24 * time.Hour

// sessionAudience is the audience of session tokens, so a session token can
// never pass as a reservation token or the other way round.
const sessionAudience = "foyer:session"

type sessionAnswer struct {
	ShopperID string    `json:"shopper_id"`
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
}

// createSession gives an anonymous visitor a shopper id and a signed token
// that proves it on the WebSocket.
func (s *Server) createSession(c *gin.Context) {
	if err := s.admitConnection(); err != nil {
		s.fail(c, err) // a session here would only be refused its WebSocket
		return
	}
	answer, _, err := s.mintSession(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, answer)
}

// mintSession makes a new shopper and its session token, under the
// per-address limit on new sessions: POST /v1/sessions, and a WebSocket
// opened with session=new.
func (s *Server) mintSession(c *gin.Context) (sessionAnswer, sessionClaims, error) {
	if err := s.allow(c.Request.Context(), RuleIPSessions, c.ClientIP()); err != nil {
		return sessionAnswer{}, sessionClaims{}, err
	}
	shopper := "v_" + strings.ToLower(rand.Text())
	claims := sessionClaims{
		RegisteredClaims: s.deps.Ring.NewClaims(shopper, sessionAudience, "", sessionTTL),
		IPSessions:       s.countSession(c.Request.Context(), c.ClientIP()),
	}
	token, err := s.deps.Ring.SignPrivate(claims)
	if err != nil {
		return sessionAnswer{}, sessionClaims{}, err
	}
	return sessionAnswer{ShopperID: shopper, Token: token, ExpiresAt: claims.ExpiresAt.Time}, claims, nil
}

// sessionOf verifies a session token and returns its claims: the subject is
// the shopper.
func (s *Server) sessionOf(token string) (sessionClaims, error) {
	var claims sessionClaims
	if err := s.deps.Ring.VerifyPrivate(token, &claims, sessionAudience); err != nil {
		return sessionClaims{}, fmt.Errorf("%w: %v", errSessionInvalid, err)
	}
	if claims.Subject == "" {
		return sessionClaims{}, fmt.Errorf("%w: no subject", errSessionInvalid)
	}
	return claims, nil
}

// getSale is the public view of a sale, for a page to draw before its
// WebSocket connects.
func (s *Server) getSale(c *gin.Context) {
	id, ok := s.saleParam(c)
	if !ok {
		return
	}
	st, err := s.deps.Rooms.Status(c.Request.Context(), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, viewOf(st))
}

// getDraw publishes a sale's prequeue draw: the seed's hash from the moment
// the prequeue opens, the seed and the drawn order from the start.
func (s *Server) getDraw(c *gin.Context) {
	id, ok := s.saleParam(c)
	if !ok {
		return
	}
	d, err := s.deps.Rooms.Draw(c.Request.Context(), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, d)
}
