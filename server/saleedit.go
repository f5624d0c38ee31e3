package server

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/foyerhq/foyer/waitingroom"
)

// Changing and deleting a sale before it opens (docs/admin-api.md).

// editSale changes the fields of a scheduled sale's plan the body names
// (PATCH /v1/admin/sales/:sale), and answers the plan as it now is. A field
// an edit cannot change (identity, checkout, ...) or does not know is
// refused as bad_request: silently ignoring it would let an operator
// believe it took.
func (s *Server) editSale(c *gin.Context) {
	id, ok := s.saleParam(c)
	if !ok {
		return
	}
	var change waitingroom.PlanChange
	dec := json.NewDecoder(c.Request.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&change); err != nil {
		s.fail(c, fmt.Errorf("%w: %v (an edit may change sku, name, price_cents, currency, stock, starts_at, "+
			"ends_at, prequeue_seconds, outflow_per_second, reservation_ttl_seconds, per_shopper_limit, "+
			"per_customer_units, per_customer_orders, list_price_cents, discount and products)", errBadRequest, err))
		return
	}
	if dec.More() {
		s.fail(c, fmt.Errorf("%w: one JSON object, nothing after it", errBadRequest))
		return
	}
	if change.Products != nil {
		for i, pr := range *change.Products {
			if err := s.productImageShown(i, pr.ImageURL); err != nil {
				s.fail(c, err)
				return
			}
		}
	}
	p, err := s.deps.Operator.Edit(c.Request.Context(), id, change, actorOf(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, p)
}

// deleteSale deletes a sale that has not opened (DELETE /v1/admin/sales/:sale).
func (s *Server) deleteSale(c *gin.Context) {
	id, ok := s.saleParam(c)
	if !ok {
		return
	}
	if err := s.deps.Operator.Delete(c.Request.Context(), id, actorOf(c)); err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"deleted": id})
}
