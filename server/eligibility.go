package server

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"mime"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/foyerhq/foyer/internal/identity"
	"github.com/foyerhq/foyer/internal/keyring"
	"github.com/foyerhq/foyer/waitingroom"
)

// Who may join a sale (docs/integration.md, "Who may join"): the admin API
// of an invited sale's invitations, and what a shopper's join shows.

// Invitations keeps invited sales' invitee lists, groups and invite codes
// (waitingroom.Operator).
type Invitations interface {
	ReplaceInvitees(ctx context.Context, saleID string, ids []string, actor string) error
	Invitees(ctx context.Context, saleID string) ([]string, error)
	SetGroups(ctx context.Context, saleID string, groups []string, actor string) error
	NewInviteCodes(ctx context.Context, saleID string, n int, actor string) ([]string, error)
	InvitationsOf(ctx context.Context, saleID string) (waitingroom.Invitations, error)
}

// maxInviteesBody caps the body of PUT .../invitees, above the admin API's
// usual cap: 100,000 customer ids of a few dozen characters each.
const maxInviteesBody = 4 << 20

// CustomerShopperIDs returns how the shopper id of the shop's customer with
// a customer id is derived with ring, as mintSession derives it for a
// session made from the customer's identity token: an invited sale's list
// is kept by shopper id (waitingroom.Operator.CustomerShopper).
func CustomerShopperIDs(ring *keyring.Ring) func(customerID string) string {
	secret := ring.DeriveSecret(customerPurpose)
	return func(customerID string) string { return identity.ShopperID(secret, customerID) }
}

// inviteesAnswer is what replacing an invitee list did.
type inviteesAnswer struct {
	Invitees   int `json:"invitees"`
	Duplicates int `json:"duplicates"` // rows dropped as repeats of an earlier one
}

// putInvitees replaces a sale's invitee list with the CSV body's (PUT
// /v1/admin/sales/:sale/invitees): all of it, or, with any bad row, none.
func (s *Server) putInvitees(c *gin.Context) {
	id, ok := s.saleParam(c)
	if !ok {
		return
	}
	if mt, _, _ := mime.ParseMediaType(c.ContentType()); mt != "text/csv" {
		s.fail(c, fmt.Errorf("%w: the body must be text/csv, one customer id per row", waitingroom.ErrInvitationsInvalid))
		return
	}
	body, err := io.ReadAll(c.Request.Body)
	if err != nil {
		s.fail(c, fmt.Errorf("%w: %v", errBadRequest, err))
		return
	}
	ids, dupes, err := waitingroom.ParseInvitees(bytes.NewReader(body))
	if err != nil {
		s.fail(c, err)
		return
	}
	if err := s.deps.Invitations.ReplaceInvitees(c.Request.Context(), id, ids, actorOf(c)); err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, inviteesAnswer{Invitees: len(ids), Duplicates: dupes})
}

// inviteesCSV downloads a sale's invitee list as it was uploaded, repeats
// dropped (GET /v1/admin/sales/:sale/invitees.csv).
func (s *Server) inviteesCSV(c *gin.Context) {
	id, ok := s.saleParam(c)
	if !ok {
		return
	}
	ids, err := s.deps.Invitations.Invitees(c.Request.Context(), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Content-Disposition", `attachment; filename="invitees-`+id+`.csv"`)
	c.Data(http.StatusOK, "text/csv; charset=utf-8", waitingroom.InviteesCSV(ids))
}

type groupsRequest struct {
	Groups []string `json:"groups"`
}

// putGroups sets the shop's groups whose members a sale admits (PUT
// /v1/admin/sales/:sale/groups).
func (s *Server) putGroups(c *gin.Context) {
	id, ok := s.saleParam(c)
	if !ok {
		return
	}
	var req groupsRequest
	if err := c.ShouldBindJSON(&req); err != nil {
		s.fail(c, fmt.Errorf("%w: %v", errBadRequest, err))
		return
	}
	if req.Groups == nil {
		s.fail(c, fmt.Errorf("%w: groups is required (an empty list admits no group)", waitingroom.ErrInvitationsInvalid))
		return
	}
	if err := s.deps.Invitations.SetGroups(c.Request.Context(), id, req.Groups, actorOf(c)); err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, req)
}

type inviteCodesRequest struct {
	Count int `json:"count"`
}

// postInviteCodes makes a batch of single-use invite codes and answers them
// as CSV (POST /v1/admin/sales/:sale/invite-codes): the one time they are
// seen, so nothing may keep the answer.
func (s *Server) postInviteCodes(c *gin.Context) {
	id, ok := s.saleParam(c)
	if !ok {
		return
	}
	var req inviteCodesRequest
	if err := c.ShouldBindJSON(&req); err != nil {
		s.fail(c, fmt.Errorf("%w: %v", errBadRequest, err))
		return
	}
	codes, err := s.deps.Invitations.NewInviteCodes(c.Request.Context(), id, req.Count, actorOf(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	_ = w.Write([]string{"code"}) // a bytes.Buffer does not fail
	for _, code := range codes {
		_ = w.Write([]string{code})
	}
	w.Flush()
	c.Header("Cache-Control", "no-store")
	c.Header("Content-Disposition", `attachment; filename="invite-codes-`+id+`.csv"`)
	c.Data(http.StatusCreated, "text/csv; charset=utf-8", b.Bytes())
}

// invitations sums up a sale's invitations for the dashboard (GET
// /v1/admin/sales/:sale/invitations).
func (s *Server) invitations(c *gin.Context) {
	id, ok := s.saleParam(c)
	if !ok {
		return
	}
	inv, err := s.deps.Invitations.InvitationsOf(c.Request.Context(), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, inv)
}

// passOf is what a shopper shows to join: the groups of its session and the
// invite code it sent. A code that could not be one is refused with bad,
// the transport's own refusal (errBadRequest for a URL, errBadMessage for a
// message), before anything reaches Redis.
func passOf(groups []string, invite string, bad error) (waitingroom.Pass, error) {
	if invite != "" && !waitingroom.ValidInvite(invite) {
		return waitingroom.Pass{}, fmt.Errorf("%w: invite must be 1 to %d of A-Z, a-z, 0-9 and -",
			bad, waitingroom.MaxInviteLen)
	}
	return waitingroom.Pass{Invite: invite, Groups: groups}, nil
}
