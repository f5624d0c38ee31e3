package server

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/foyerhq/foyer/internal/operators"
)

// Who may call which admin route: every route of the admin API is
// registered with the least role that may call it (route), and
// docs/operators.md lists the same table (a test compares them). A route
// registered without a decision is refused to all but admins (authenticate),
// and a test fails on it.

// errRoleTooLow is a signed-in operator whose role may not call the route.
var errRoleTooLow = errors.New("role too low")

// RouteRole is an admin route and the least role that may call it.
type RouteRole struct {
	Method, Path string
	Least        operators.Role
}

// route registers an admin route on g behind require(least), and records
// the decision.
func (s *Server) route(g *gin.RouterGroup, method, path string, least operators.Role, h gin.HandlerFunc) {
	g.Handle(method, path, s.require(least), h)
	full := strings.TrimSuffix(g.BasePath(), "/") + path
	s.roles = append(s.roles, RouteRole{Method: method, Path: full, Least: least})
	if s.roleOf == nil {
		s.roleOf = map[string]operators.Role{}
	}
	s.roleOf[method+" "+full] = least
}

// AdminRoles are the admin routes this server registered, each with the
// least role that may call it.
func (s *Server) AdminRoles() []RouteRole { return slices.Clone(s.roles) }

// authenticate lets through an admin request with the admin token or a live
// operator session (401 otherwise), and notes who made it for require and
// actorOf.
func (s *Server) authenticate(c *gin.Context) {
	token, ok := strings.CutPrefix(c.GetHeader("Authorization"), "Bearer ")
	if !ok {
		s.fail(c, errUnauthorized)
		c.Abort()
		return
	}
	p, err := s.identify(c.Request.Context(), token)
	if err != nil {
		s.fail(c, err)
		c.Abort()
		return
	}
	// Fail closed: a route nobody decided on is an admin's.
	if _, decided := s.roleOf[c.Request.Method+" "+c.FullPath()]; !decided && !p.role.AtLeast(operators.RoleAdmin) {
		s.fail(c, fmt.Errorf("%w: %s %s has no role decided, so only an admin may call it", errRoleTooLow, c.Request.Method, c.FullPath()))
		c.Abort()
		return
	}
	c.Set(principalContext, p)
	c.Next()
}

// require refuses a request whose principal's role is below least (403
// role_forbidden); authenticate ran first.
func (s *Server) require(least operators.Role) gin.HandlerFunc {
	return func(c *gin.Context) {
		if p := principalOf(c); !p.role.AtLeast(least) {
			s.fail(c, fmt.Errorf("%w: %s %s needs the role %s or above, and %s is %s",
				errRoleTooLow, c.Request.Method, c.FullPath(), least, p.actor, p.role))
			c.Abort()
			return
		}
		c.Next()
	}
}
