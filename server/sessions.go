package server

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/foyerhq/foyer/internal/identity"
)

// The shopper's public HTTP API besides checkout: sessions, a sale's view and its draw.

// sessionTTL is how long an anonymous visitor session lasts.
const sessionTTL = 24 * time.Hour

// sessionAudience is the audience of session tokens, so a session token can
// never pass as a reservation token or the other way round.
const sessionAudience = "foyer:session"

// customerPurpose names the secret customers' shopper ids are derived under
// (keyring.Ring.DeriveSecret): the same on every node, and unrelated to any
// other secret the signing key yields.
const customerPurpose = "customer"

// IdentityVerifier checks a shop's identity token and spends it
// (internal/identity): a refused one wraps identity.ErrInvalid.
type IdentityVerifier interface {
	Verify(ctx context.Context, token string) (identity.Customer, error)
}

type sessionAnswer struct {
	ShopperID string    `json:"shopper_id"`
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
	Customer  bool      `json:"customer,omitempty"` // made from the shop's identity token
}

// sessionRequest is the optional body of POST /v1/sessions.
type sessionRequest struct {
	// Identity is the shop's identity token for its signed-in customer
	// (docs/integration.md, "Known customers"); empty: anonymous.
	Identity string `json:"identity"`
}

// createSession gives a visitor a shopper id and a signed token that proves
// it on the WebSocket: anonymous, or, with the shop's identity token, the
// customer's own shopper id, the same in every browser it uses.
func (s *Server) createSession(c *gin.Context) {
	if err := s.admitConnection(); err != nil {
		s.fail(c, err) // a session here would only be refused its WebSocket
		return
	}
	// No body, as before identity, asks for an anonymous session.
	var req sessionRequest
	if err := json.NewDecoder(c.Request.Body).Decode(&req); err != nil && !errors.Is(err, io.EOF) {
		s.fail(c, fmt.Errorf("%w: %v", errBadRequest, err))
		return
	}
	answer, _, err := s.mintSession(c, req.Identity)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, answer)
}

// mintSession makes a new shopper and its session token, under the
// per-address limit on new sessions: POST /v1/sessions, and a WebSocket
// opened with session=new. With an identity token (empty: none) the
// shopper is the customer's: a token refused makes no session.
func (s *Server) mintSession(c *gin.Context, identityToken string) (sessionAnswer, sessionClaims, error) {
	ctx := c.Request.Context()
	if err := s.allow(ctx, RuleIPSessions, c.ClientIP()); err != nil {
		return sessionAnswer{}, sessionClaims{}, err
	}
	shopper := "v_" + strings.ToLower(rand.Text())
	var customer *identity.Customer
	if identityToken != "" {
		var err error
		if customer, err = s.verifyIdentity(ctx, identityToken); err != nil {
			return sessionAnswer{}, sessionClaims{}, err
		}
		shopper = identity.ShopperID(s.deps.Ring.DeriveSecret(customerPurpose), customer.ID)
	}
	claims := sessionClaims{
		RegisteredClaims: s.deps.Ring.NewClaims(shopper, sessionAudience, "", sessionTTL),
		IPSessions:       s.countSession(ctx, c.ClientIP()),
	}
	if customer != nil {
		claims.Customer, claims.Groups, claims.CustomerID = true, customer.Groups, customer.ID
	}
	token, err := s.deps.Ring.SignPrivate(claims)
	if err != nil {
		return sessionAnswer{}, sessionClaims{}, err
	}
	return sessionAnswer{ShopperID: shopper, Token: token, ExpiresAt: claims.ExpiresAt.Time, Customer: claims.Customer}, claims, nil
}

// verifyIdentity checks the shop's identity token and spends it. A node
// configured with no identity key refuses every token as invalid: identity
// is off.
func (s *Server) verifyIdentity(ctx context.Context, token string) (*identity.Customer, error) {
	if s.deps.Identity == nil {
		return nil, fmt.Errorf("%w: no identity key is configured", identity.ErrInvalid)
	}
	customer, err := s.deps.Identity.Verify(ctx, token)
	if err != nil {
		return nil, err
	}
	return &customer, nil
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
	st, err := s.deps.Rooms.StatusShown(c.Request.Context(), id)
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
