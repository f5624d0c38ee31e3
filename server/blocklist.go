package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/foyerhq/foyer/internal/defence/blocklist"
)

// errBlocked is a client on the operators' blocklist.
var errBlocked = errors.New("blocked")

// Blocklist is the operators' list of blocked IPs, networks and shoppers:
// Blocked answers from memory on every node, the rest manages the list.
type Blocklist interface {
	Blocked(ip netip.Addr, shopperID string) (blocklist.Entry, bool)
	Add(ctx context.Context, kind blocklist.Kind, value, reason string) (blocklist.Entry, error)
	Remove(ctx context.Context, kind blocklist.Kind, value string) error
	List(ctx context.Context) ([]blocklist.Entry, error)
}

// blocked returns errBlocked when the client's IP or the shopper is on the
// blocklist.
func (s *Server) blocked(ip netip.Addr, shopper string) error {
	if s.deps.Blocklist == nil {
		return nil
	}
	if e, ok := s.deps.Blocklist.Blocked(ip, shopper); ok {
		return fmt.Errorf("%w: %s %s is blocked", errBlocked, e.Kind, e.Value)
	}
	return nil
}

// refuseBlocked turns away blocked IPs from every shopper-facing request.
// Operators are not: a blocked network must not lock them out of the admin
// API that unblocks it, and the token already guards it.
func (s *Server) refuseBlocked(c *gin.Context) {
	p := c.Request.URL.Path
	if strings.HasPrefix(p, "/v1/admin/") || p == "/healthz" || p == "/readyz" {
		c.Next()
		return
	}
	if err := s.blocked(clientAddr(c), ""); err != nil {
		s.fail(c, err)
		c.Abort()
		return
	}
	c.Next()
}

// blockRequest is an entry to add to or remove from the blocklist.
type blockRequest struct {
	Kind   blocklist.Kind `json:"kind"`
	Value  string         `json:"value"`
	Reason string         `json:"reason,omitempty"`
}

func (s *Server) listBlocked(c *gin.Context) {
	entries, err := s.deps.Blocklist.List(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	if entries == nil {
		entries = []blocklist.Entry{}
	}
	c.JSON(http.StatusOK, gin.H{"entries": entries})
}

// addBlocked blocks an entry and records it in the audit log, both or
// neither (Operator.Record): the entry and its reason are checked before
// anything is written.
func (s *Server) addBlocked(c *gin.Context) {
	var req blockRequest
	if err := c.ShouldBindJSON(&req); err != nil {
		s.fail(c, fmt.Errorf("%w: %v", errBadRequest, err))
		return
	}
	checked, err := blocklist.Check(req.Kind, req.Value, req.Reason)
	if err != nil {
		s.fail(c, err)
		return
	}
	audited := blockRequest{Kind: checked.Kind, Value: checked.Value, Reason: checked.Reason}
	var e blocklist.Entry
	err = s.deps.Operator.Record(c.Request.Context(), "block", actorOf(c), audited, func(ctx context.Context) error {
		var err error
		e, err = s.deps.Blocklist.Add(ctx, checked.Kind, checked.Value, checked.Reason)
		return err
	})
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, e)
}

// removeBlocked unblocks an entry and records it in the audit log, both or
// neither. The log keeps the entry in its canonical form.
func (s *Server) removeBlocked(c *gin.Context) {
	var req blockRequest
	if err := c.ShouldBindJSON(&req); err != nil {
		s.fail(c, fmt.Errorf("%w: %v", errBadRequest, err))
		return
	}
	checked, err := blocklist.Check(req.Kind, req.Value, "")
	if err != nil {
		s.fail(c, err)
		return
	}
	removed := blockRequest{Kind: checked.Kind, Value: checked.Value}
	err = s.deps.Operator.Record(c.Request.Context(), "unblock", actorOf(c), removed, func(ctx context.Context) error {
		return s.deps.Blocklist.Remove(ctx, checked.Kind, checked.Value)
	})
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"removed": removed})
}

// CloseBlocked closes every shopper connection of this node whose IP,
// network or shopper is on the blocklist now, with close code 4003. The
// composition root (internal/app) calls it after each change of the list
// (the onChange of blocklist.Watcher.Run), so a block takes effect on the
// sockets already open, not only on the next request. It reports how many
// it closed.
func (s *Server) CloseBlocked() int {
	if s.deps.Blocklist == nil {
		return 0
	}
	n := s.hub.CloseBlocked(func(ip netip.Addr, shopper string) bool {
		_, ok := s.deps.Blocklist.Blocked(ip, shopper)
		return ok
	})
	if n > 0 {
		s.deps.Log.Info("closed the connections of blocked clients", "count", n)
	}
	return n
}
