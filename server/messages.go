package server

import (
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/foyerhq/foyer/waitingroom"
)

// An operator's messages to a sale's shoppers: now, cleared, or scheduled
// (docs/admin-api.md, "Messages").

// messageRequest is POST .../messages: a text shown now, or at at.
type messageRequest struct {
	Text string     `json:"text"`
	At   *time.Time `json:"at"`
}

// postMessage shows a message now (an empty text clears it), or schedules it
// when the body has at.
func (s *Server) postMessage(c *gin.Context) {
	id, ok := s.saleParam(c)
	if !ok {
		return
	}
	var req messageRequest
	if err := c.ShouldBindJSON(&req); err != nil {
		s.fail(c, fmt.Errorf("%w: %v", errBadRequest, err))
		return
	}
	if req.At == nil {
		state, err := s.deps.Operator.Control(c.Request.Context(), id,
			waitingroom.Control{Action: waitingroom.ActionMessage, Text: req.Text, Actor: actorOf(c)})
		if err != nil {
			s.fail(c, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"state": state})
		return
	}
	m, err := s.deps.Operator.ScheduleMessage(c.Request.Context(), id, req.Text, *req.At, actorOf(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, gin.H{"scheduled": m})
}

// listMessages answers the message shown now ("" for none) and those
// scheduled, soonest first.
func (s *Server) listMessages(c *gin.Context) {
	id, ok := s.saleParam(c)
	if !ok {
		return
	}
	st, err := s.deps.Rooms.Status(c.Request.Context(), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	scheduled, err := s.deps.Operator.ScheduledMessages(c.Request.Context(), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"message": st.Message, "scheduled": scheduled})
}

// cancelMessage cancels a scheduled message before it is shown.
func (s *Server) cancelMessage(c *gin.Context) {
	id, ok := s.saleParam(c)
	if !ok {
		return
	}
	msg := c.Param("message")
	if err := s.deps.Operator.CancelMessage(c.Request.Context(), id, msg, actorOf(c)); err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"cancelled": msg})
}
