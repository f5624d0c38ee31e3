package server

import (
	"fmt"
	"net/http/pprof"
	runtimepprof "runtime/pprof"

	"github.com/gin-gonic/gin"
)

// profile serves the Go runtime's profiles to operators, behind the admin
// token: CPU (profile), execution trace (trace) and every named profile
// (heap, goroutine, allocs, ...). heap?gc=1 collects garbage first, which is
// how the bench reads what holding its shoppers really costs.
func (s *Server) profile(c *gin.Context) {
	name := c.Param("profile")
	switch {
	case name == "profile":
		pprof.Profile(c.Writer, c.Request)
	case name == "trace":
		pprof.Trace(c.Writer, c.Request)
	case runtimepprof.Lookup(name) != nil:
		pprof.Handler(name).ServeHTTP(c.Writer, c.Request)
	default:
		s.fail(c, fmt.Errorf("%w: no profile %q", errBadRequest, name))
	}
}
