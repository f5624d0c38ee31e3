package server

import (
	"net/http"

	"github.com/foyerhq/foyer/internal/opsport"
)

// OpsHandler serves the node's metrics and the Go profiles, for its ops
// port (internal/opsport), never the public listener.
func (s *Server) OpsHandler() http.Handler { return opsport.Handler(s.metrics.registry) }
