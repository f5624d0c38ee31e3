package server

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/foyerhq/foyer/internal/shopkeys"
)

// Shop API keys: made, listed and revoked through the admin API, presented
// by a shop's backend as "Authorization: Bearer fk_<id>_<secret>" on the
// shop's endpoints (/v1/shop/...), each of which asks for one scope.

// ShopKeys keeps the shop's API keys (internal/shopkeys).
type ShopKeys interface {
	Create(ctx context.Context, name string, scopes []string, actor string) (shopkeys.Created, error)
	List(ctx context.Context) ([]shopkeys.Key, error)
	Revoke(ctx context.Context, id, actor string) (shopkeys.Key, error)
	Authenticate(ctx context.Context, presented, scope string) (shopkeys.Key, error)
	RecordUse(ctx context.Context, keyID, scope string) error
}

type shopKeyRequest struct {
	Name   string   `json:"name"`
	Scopes []string `json:"scopes"`
}

// createShopKey answers POST /v1/admin/shop-keys with the whole key, the
// one time it is ever shown.
func (s *Server) createShopKey(c *gin.Context) {
	var req shopKeyRequest
	if err := c.ShouldBindJSON(&req); err != nil {
		s.fail(c, fmt.Errorf("%w: %v", errBadRequest, err))
		return
	}
	k, err := s.deps.ShopKeys.Create(c.Request.Context(), req.Name, req.Scopes, actorOf(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store") // the secret must not linger in a cache
	c.JSON(http.StatusCreated, k)
}

func (s *Server) listShopKeys(c *gin.Context) {
	keys, err := s.deps.ShopKeys.List(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	if keys == nil {
		keys = []shopkeys.Key{}
	}
	c.JSON(http.StatusOK, gin.H{"keys": keys})
}

// revokeShopKey answers DELETE /v1/admin/shop-keys/:key; revoking twice
// answers the same.
func (s *Server) revokeShopKey(c *gin.Context) {
	k, err := s.deps.ShopKeys.Revoke(c.Request.Context(), c.Param("key"), actorOf(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, k)
}

// shopKeyIDContext names the id of the shop key a request presented, in the
// gin context requireShopKey lets through: a redeem's idempotency keys are
// that key's own.
const shopKeyIDContext = "foyer.shop_key_id"

// requireShopKey lets through a request that carries a shop key with scope;
// any other is refused (401 shop_key_invalid, or 403 shop_key_scope) before
// its handler runs. The use is recorded after the handler answered, and
// only if it answered below 400: a request refused for its input (a bad
// Idempotency-Key, a malformed body, a lapsed token) changes nothing, not
// even the audit log.
func (s *Server) requireShopKey(scope string) gin.HandlerFunc {
	return func(c *gin.Context) {
		presented, ok := strings.CutPrefix(c.GetHeader("Authorization"), "Bearer ")
		if !ok || s.deps.ShopKeys == nil {
			s.fail(c, shopkeys.ErrInvalid)
			c.Abort()
			return
		}
		k, err := s.deps.ShopKeys.Authenticate(c.Request.Context(), presented, scope)
		if err != nil {
			s.fail(c, err)
			c.Abort()
			return
		}
		c.Set(shopKeyIDContext, k.ID)
		c.Next()
		if c.Writer.Status() >= http.StatusBadRequest {
			return
		}
		// The answer is given: record it even if the shop hung up since.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request.Context()), recordUseTimeout)
		defer cancel()
		if err := s.deps.ShopKeys.RecordUse(ctx, k.ID, scope); err != nil {
			s.deps.Log.Warn("shop key: cannot record a use", "key", k.ID, "scope", scope, "err", err)
		}
	}
}

// recordUseTimeout bounds the write of a shop key's use after its answer.
const recordUseTimeout = 5 * time.Second
