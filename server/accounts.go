package server

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/foyerhq/foyer/internal/operators"
)

// Operator accounts (docs/operators.md): people sign in with a username and
// password and get a session token, sent as "Authorization: Bearer" like
// the admin token (and as the live feed's subprotocol); an admin makes,
// lists, changes and disables accounts. The admin token stays, for
// automation: it acts as an admin named "admin-token" in the audit log.

// Accounts keeps operator accounts and their sessions (internal/operators).
type Accounts interface {
	Login(ctx context.Context, username, password string) (operators.Session, error)
	Logout(ctx context.Context, token string) error
	Authenticate(ctx context.Context, token string) (operators.Operator, error)
	Create(ctx context.Context, n operators.NewOperator, actor string) (operators.Operator, error)
	List(ctx context.Context) ([]operators.Operator, error)
	SetRole(ctx context.Context, username string, role operators.Role, actor string) (operators.Operator, error)
	SetDisabled(ctx context.Context, username string, disabled bool, actor string) (operators.Operator, error)
	ResetPassword(ctx context.Context, username, password, actor string) (operators.Operator, error)
}

// Rate rules of sign-ins (limits.go): per client address, and per
// account named, so that neither one address nor many guess a password
// fast. Counted per minute.
const (
	RuleIPLogins      = "ip_logins"
	RuleAccountLogins = "account_logins"
)

// maxLoginBody caps a sign-in's body (bodylimit.go): a username and a
// password of at most 128 characters each.
const maxLoginBody = 4 << 10

type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// login answers POST /v1/admin/login with a session token, shown this once.
// A refusal (login_failed, 401) says no more than that, and changes
// nothing; both the address and the account named are rate limited first.
func (s *Server) login(c *gin.Context) {
	var req loginRequest
	if err := c.ShouldBindJSON(&req); err != nil {
		s.fail(c, fmt.Errorf("%w: %v", errBadRequest, err))
		return
	}
	ctx := c.Request.Context()
	if err := s.allow(ctx, RuleIPLogins, c.ClientIP()); err != nil {
		s.fail(c, err)
		return
	}
	// Keyed by a hash: the name is the client's, of any length.
	named := sha256.Sum256([]byte(operators.NormalUsername(req.Username)))
	if err := s.allow(ctx, RuleAccountLogins, hex.EncodeToString(named[:16])); err != nil {
		s.fail(c, err)
		return
	}
	sess, err := s.deps.Accounts.Login(ctx, req.Username, req.Password)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store") // the token must not linger in a cache
	c.JSON(http.StatusOK, sess)
}

// logout answers POST /v1/admin/logout: the session presented ends. The
// admin token cannot be signed out (it is the deployment's); its logout
// does nothing.
func (s *Server) logout(c *gin.Context) {
	token, ok := strings.CutPrefix(c.GetHeader("Authorization"), "Bearer ")
	if !ok || !strings.HasPrefix(token, operators.SessionPrefix) {
		c.Status(http.StatusNoContent)
		return
	}
	if err := s.deps.Accounts.Logout(c.Request.Context(), token); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// me answers GET /v1/admin/me: who is signed in, with which role, for the
// dashboard to show and to hide what the role cannot use.
func (s *Server) me(c *gin.Context) {
	p := principalOf(c)
	c.JSON(http.StatusOK, gin.H{"actor": p.actor, "username": p.username, "role": p.role})
}

func (s *Server) createOperator(c *gin.Context) {
	var req operators.NewOperator
	if err := c.ShouldBindJSON(&req); err != nil {
		s.fail(c, fmt.Errorf("%w: %v", errBadRequest, err))
		return
	}
	op, err := s.deps.Accounts.Create(c.Request.Context(), req, actorOf(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, op)
}

func (s *Server) listOperators(c *gin.Context) {
	ops, err := s.deps.Accounts.List(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"operators": ops})
}

func (s *Server) setOperatorRole(c *gin.Context) {
	var req struct {
		Role operators.Role `json:"role"`
	}
	if err := c.ShouldBindJSON(&req); err != nil {
		s.fail(c, fmt.Errorf("%w: %v", errBadRequest, err))
		return
	}
	op, err := s.deps.Accounts.SetRole(c.Request.Context(), c.Param("operator"), req.Role, actorOf(c))
	s.answerOperator(c, op, err)
}

// disableOperator and enableOperator answer POST .../disable and
// .../enable; a disabled account's sessions end at once.
func (s *Server) disableOperator(c *gin.Context) {
	op, err := s.deps.Accounts.SetDisabled(c.Request.Context(), c.Param("operator"), true, actorOf(c))
	s.answerOperator(c, op, err)
}

func (s *Server) enableOperator(c *gin.Context) {
	op, err := s.deps.Accounts.SetDisabled(c.Request.Context(), c.Param("operator"), false, actorOf(c))
	s.answerOperator(c, op, err)
}

// resetOperatorPassword answers PUT .../password; the account's sessions end.
func (s *Server) resetOperatorPassword(c *gin.Context) {
	var req struct {
		Password string `json:"password"`
	}
	if err := c.ShouldBindJSON(&req); err != nil {
		s.fail(c, fmt.Errorf("%w: %v", errBadRequest, err))
		return
	}
	op, err := s.deps.Accounts.ResetPassword(c.Request.Context(), c.Param("operator"), req.Password, actorOf(c))
	s.answerOperator(c, op, err)
}

func (s *Server) answerOperator(c *gin.Context, op operators.Operator, err error) {
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, op)
}

// principal is who made an admin request: the admin token, or a signed-in
// operator, with the role it acts with.
type principal struct {
	actor    string // as the audit log names it
	username string // empty for the admin token
	role     operators.Role
}

// principalContext names the principal in the gin context authenticate
// lets through.
const principalContext = "foyer.principal"

// adminTokenActor is how the audit log names the admin token: an admin,
// used by automation.
const adminTokenActor = "admin-token"

func principalOf(c *gin.Context) principal {
	v, _ := c.Get(principalContext)
	p, _ := v.(principal)
	return p
}

// actorOf names who made an admin request in the audit log:
// "operator:<username>", or "admin-token".
func actorOf(c *gin.Context) string {
	if p := principalOf(c); p.actor != "" {
		return p.actor
	}
	return "unauthenticated" // never: every admin route is behind authenticate
}

// identify finds who a bearer token names: the admin token (compared in
// constant time), or an operator's live session.
func (s *Server) identify(ctx context.Context, token string) (principal, error) {
	if s.cfg.AdminToken != "" && subtle.ConstantTimeCompare([]byte(token), []byte(s.cfg.AdminToken)) == 1 {
		return principal{actor: adminTokenActor, role: operators.RoleAdmin}, nil
	}
	if s.deps.Accounts == nil || !strings.HasPrefix(token, operators.SessionPrefix) {
		return principal{}, errUnauthorized
	}
	op, err := s.deps.Accounts.Authenticate(ctx, token)
	if err != nil {
		return principal{}, err
	}
	return principal{actor: operators.Actor(op.Username), username: op.Username, role: op.Role}, nil
}
