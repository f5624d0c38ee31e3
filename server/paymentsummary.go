package server

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/foyerhq/foyer/internal/orders"
)

// PaymentSummaries sums a sale's payments from its orders (internal/orders).
type PaymentSummaries interface {
	PaymentSummary(ctx context.Context, saleID string) (orders.PaymentSummary, error)
}

// paymentSummary answers GET /v1/admin/sales/:sale/payments: the sale's
// paid, failed and pending orders, counted and summed, for the dashboard.
func (s *Server) paymentSummary(c *gin.Context) {
	id, ok := s.saleParam(c)
	if !ok {
		return
	}
	if _, err := s.deps.Operator.Get(c.Request.Context(), id); err != nil {
		s.fail(c, err) // sale_not_found, or the store out of reach
		return
	}
	sum, err := s.deps.PaymentSummaries.PaymentSummary(c.Request.Context(), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, sum)
}
