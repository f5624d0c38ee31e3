package server

import (
	"io/fs"
	"net/http"

	"github.com/gin-gonic/gin"
)

// mountWeb serves the static pages. They hold nothing live: everything live
// comes over the WebSocket, so a CDN may cache them.
func (s *Server) mountWeb(e *gin.Engine) {
	if s.deps.Web == nil {
		return
	}
	files := http.FileServer(http.FS(s.deps.Web))
	e.NoRoute(func(c *gin.Context) {
		if c.Request.Method != http.MethodGet && c.Request.Method != http.MethodHead {
			c.JSON(http.StatusNotFound, errorBody{Error: errorDetail{Code: "not_found", Message: "no such route"}})
			return
		}
		if _, err := fs.Stat(s.deps.Web, trimSlash(c.Request.URL.Path)); err != nil && c.Request.URL.Path != "/" {
			c.JSON(http.StatusNotFound, errorBody{Error: errorDetail{Code: "not_found", Message: "no such page"}})
			return
		}
		files.ServeHTTP(c.Writer, c.Request)
	})
}

func trimSlash(p string) string {
	if len(p) > 0 && p[0] == '/' {
		return p[1:]
	}
	return p
}
