package server

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/foyerhq/foyer/internal/orders"
)

// The Orders API: a sale's orders for the shop's back office, a page at a
// time as JSON, or all of them as a CSV download.

// OrderReader reads a sale's orders (internal/orders).
type OrderReader interface {
	Page(ctx context.Context, saleID string, q orders.Query) (orders.Page, error)
	Each(ctx context.Context, saleID string, q orders.Query, fn func(orders.Order) error) error
}

// ordersQuery reads the query of both endpoints, and fails the request when
// the sale does not exist or a parameter cannot be read: either way nothing
// is read, and the CSV download sends no header before it knows.
func (s *Server) ordersQuery(c *gin.Context) (string, orders.Query, bool) {
	id, ok := s.saleParam(c)
	if !ok {
		return "", orders.Query{}, false
	}
	q, err := orders.ParseQuery(c.Query("status"), c.Query("limit"), c.Query("cursor"))
	if err != nil {
		s.fail(c, err)
		return "", orders.Query{}, false
	}
	if _, err := s.deps.Operator.Get(c.Request.Context(), id); err != nil {
		s.fail(c, err) // sale_not_found, or the store out of reach
		return "", orders.Query{}, false
	}
	return id, q, true
}

// listOrders answers GET /v1/admin/sales/:sale/orders with one page.
func (s *Server) listOrders(c *gin.Context) {
	id, q, ok := s.ordersQuery(c)
	if !ok {
		return
	}
	page, err := s.deps.Orders.Page(c.Request.Context(), id, q)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, page)
}

// ordersCSV answers GET /v1/admin/sales/:sale/orders.csv with every order
// the filter matches, streamed from the query as the rows come: the limit
// is ignored, a cursor starts after its order. Once the first byte is sent
// the status cannot change, so a failure midway is logged and the
// connection dropped before the answer's last chunk: a client sees an error.
func (s *Server) ordersCSV(c *gin.Context) {
	id, q, ok := s.ordersQuery(c)
	if !ok {
		return
	}
	c.Header("Content-Type", "text/csv; charset=utf-8")
	c.Header("Content-Disposition", `attachment; filename="orders-`+id+`.csv"`)
	c.Status(http.StatusOK)
	w := orders.NewCSVWriter(c.Writer)
	err := s.deps.Orders.Each(c.Request.Context(), id, q, w.Write)
	if err == nil {
		err = w.Flush()
	}
	if err != nil {
		s.deps.Log.Error("orders CSV cut short", "sale", id, "err", err)
		// Dropping the connection keeps the chunked answer from ending
		// well-formed: a short file must not pass for the whole.
		if conn, _, herr := c.Writer.Hijack(); herr == nil {
			conn.Close()
		}
	}
}
