package server

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/foyerhq/foyer/internal/salehistory"
)

// SaleHistory is a sale's per-second series and its reports
// (internal/salehistory).
type SaleHistory interface {
	SeriesOf(ctx context.Context, saleID string, from, to int64) (salehistory.Series, error)
	Report(ctx context.Context, saleID string) (salehistory.Report, error)
	Fairness(ctx context.Context, saleID string) (salehistory.FairnessReport, error)
	PublishFairness(ctx context.Context, saleID string, publish bool, actor string) (*time.Time, error)
}

// series answers GET /v1/admin/sales/:sale/series?from=&to=: the sale's
// counters, a point per second from from up to to (unix seconds), at most
// salehistory.MaxSeriesSpan wide; the dashboard reads a sale's history in
// such pages.
func (s *Server) series(c *gin.Context) {
	id, ok := s.saleParam(c)
	if !ok {
		return
	}
	from, errFrom := strconv.ParseInt(c.Query("from"), 10, 64)
	to, errTo := strconv.ParseInt(c.Query("to"), 10, 64)
	if err := errors.Join(errFrom, errTo); err != nil {
		s.fail(c, salehistory.ErrBadSpan)
		return
	}
	if _, err := s.deps.Operator.Get(c.Request.Context(), id); err != nil {
		s.fail(c, err) // sale_not_found, or the store out of reach
		return
	}
	series, err := s.deps.History.SeriesOf(c.Request.Context(), id, from, to)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, series)
}
