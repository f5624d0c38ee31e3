package server

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/foyerhq/foyer/internal/operators"
	"github.com/foyerhq/foyer/internal/webhooks"
)

// Outgoing webhooks: the shop's endpoints, made, listed and deleted, and
// their delivery logs, with redeliver and replay (docs/integration.md,
// "Webhooks"). The same handlers serve the admin API and the shop API
// (/v1/shop/webhooks, a shop key of scope webhooks); every change is
// audited with who made it.

// Webhooks keeps the shop's webhook endpoints and their deliveries
// (internal/webhooks).
type Webhooks interface {
	Create(ctx context.Context, n webhooks.NewEndpoint, actor string) (webhooks.Created, error)
	List(ctx context.Context) ([]webhooks.Endpoint, error)
	Delete(ctx context.Context, id, actor string) error
	Log(ctx context.Context, id string, q webhooks.LogQuery) (webhooks.LogPage, error)
	Redeliver(ctx context.Context, id string, delivery int64, actor string) (webhooks.Delivery, error)
	Replay(ctx context.Context, id string, since time.Time, actor string) (int, error)
}

// webhookActor names who made a webhook change: the admin, or the shop key.
func webhookActor(c *gin.Context) string {
	if id := c.GetString(shopKeyIDContext); id != "" {
		return "shop_key:" + id
	}
	return actorOf(c)
}

// createWebhook answers POST .../webhooks with the endpoint and its
// secret, the one time it is ever shown.
func (s *Server) createWebhook(c *gin.Context) {
	var req webhooks.NewEndpoint
	if err := c.ShouldBindJSON(&req); err != nil {
		s.fail(c, fmt.Errorf("%w: %v", errBadRequest, err))
		return
	}
	e, err := s.deps.Webhooks.Create(c.Request.Context(), req, webhookActor(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store") // the secret must not linger in a cache
	c.JSON(http.StatusCreated, e)
}

func (s *Server) listWebhooks(c *gin.Context) {
	list, err := s.deps.Webhooks.List(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	if list == nil {
		list = []webhooks.Endpoint{}
	}
	c.JSON(http.StatusOK, gin.H{"endpoints": list, "event_types": webhooks.EventTypes})
}

func (s *Server) deleteWebhook(c *gin.Context) {
	id := c.Param("endpoint")
	if err := s.deps.Webhooks.Delete(c.Request.Context(), id, webhookActor(c)); err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"id": id, "deleted": true})
}

// webhookDeliveries answers GET .../webhooks/:endpoint/deliveries with one
// page of the delivery log, newest first.
func (s *Server) webhookDeliveries(c *gin.Context) {
	q, err := webhooks.ParseLogQuery(c.Query("status"), c.Query("limit"), c.Query("cursor"))
	if err != nil {
		s.fail(c, err)
		return
	}
	page, err := s.deps.Webhooks.Log(c.Request.Context(), c.Param("endpoint"), q)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, page)
}

// redeliverWebhook answers POST .../deliveries/:delivery/redeliver with the
// new delivery of the same event.
func (s *Server) redeliverWebhook(c *gin.Context) {
	delivery, err := strconv.ParseInt(c.Param("delivery"), 10, 64)
	if err != nil || delivery < 1 {
		s.fail(c, webhooks.ErrDeliveryNotFound)
		return
	}
	d, err := s.deps.Webhooks.Redeliver(c.Request.Context(), c.Param("endpoint"), delivery, webhookActor(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusAccepted, d)
}

type replayRequest struct {
	Since string `json:"since"`
}

// replayWebhook answers POST .../webhooks/:endpoint/replay {"since"} with
// how many deliveries it made.
func (s *Server) replayWebhook(c *gin.Context) {
	var req replayRequest
	if err := c.ShouldBindJSON(&req); err != nil {
		s.fail(c, fmt.Errorf("%w: %v", errBadRequest, err))
		return
	}
	since, err := time.Parse(time.RFC3339Nano, req.Since)
	if err != nil {
		s.fail(c, fmt.Errorf("%w: since must be an RFC 3339 time", webhooks.ErrBadRequest))
		return
	}
	n, err := s.deps.Webhooks.Replay(c.Request.Context(), c.Param("endpoint"), since, webhookActor(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusAccepted, gin.H{"replayed": n})
}

// mountWebhooks serves the webhook routes on g, the admin API's group or
// the shop API's.
func (s *Server) mountWebhooks(g *gin.RouterGroup, route func(g *gin.RouterGroup, method, path string, least operators.Role, h gin.HandlerFunc)) {
	admin, viewer := operators.RoleAdmin, operators.RoleViewer
	route(g, http.MethodPost, "", admin, s.createWebhook)
	route(g, http.MethodGet, "", viewer, s.listWebhooks)
	route(g, http.MethodDelete, "/:endpoint", admin, s.deleteWebhook)
	route(g, http.MethodGet, "/:endpoint/deliveries", viewer, s.webhookDeliveries)
	route(g, http.MethodPost, "/:endpoint/deliveries/:delivery/redeliver", admin, s.redeliverWebhook)
	route(g, http.MethodPost, "/:endpoint/replay", admin, s.replayWebhook)
}

// shopRoute registers a route of the shop API: its scope, not a role,
// decides who may call it.
func shopRoute(g *gin.RouterGroup, method, path string, _ operators.Role, h gin.HandlerFunc) {
	g.Handle(method, path, h)
}
