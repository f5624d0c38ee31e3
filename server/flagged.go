package server

import (
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/foyerhq/foyer/waitingroom"
)

// flagsShown caps the flagged shoppers GET .../flags lists, newest first:
// the answer says how many there are in all, and whether it left some out.
const flagsShown = 500

// flaggedPolicyRequest sets what a sale does with flagged shoppers.
type flaggedPolicyRequest struct {
	Policy waitingroom.FlagPolicy `json:"policy"` // allow, back or remove
}

// setFlaggedPolicy sets a sale's policy for flagged shoppers and applies it
// at once to those flagged so far (PUT /v1/admin/sales/:sale/flagged).
func (s *Server) setFlaggedPolicy(c *gin.Context) {
	id, ok := s.saleParam(c)
	if !ok {
		return
	}
	var req flaggedPolicyRequest
	if err := c.ShouldBindJSON(&req); err != nil {
		s.fail(c, fmt.Errorf("%w: %v", errBadRequest, err))
		return
	}
	applied, err := s.deps.Operator.SetFlaggedPolicy(c.Request.Context(), id, req.Policy, actorOf(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, applied)
}

// flags shows operators a sale's flagged shoppers and its policy
// (GET /v1/admin/sales/:sale/flags).
func (s *Server) flags(c *gin.Context) {
	id, ok := s.saleParam(c)
	if !ok {
		return
	}
	report, err := s.deps.Rooms.Flags(c.Request.Context(), id, flagsShown)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, report)
}
