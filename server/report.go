package server

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/foyerhq/foyer/internal/salehistory"
)

// report answers GET /v1/admin/sales/:sale/report: the sale's post-sale
// report (the report so far while it runs).
func (s *Server) report(c *gin.Context) {
	id, ok := s.saleParam(c)
	if !ok {
		return
	}
	rep, err := s.deps.History.Report(c.Request.Context(), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, rep)
}

// reportCSV answers GET /v1/admin/sales/:sale/report.csv: the same report
// as rows of section, key and value.
func (s *Server) reportCSV(c *gin.Context) {
	id, ok := s.saleParam(c)
	if !ok {
		return
	}
	rep, err := s.deps.History.Report(c.Request.Context(), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Content-Type", "text/csv; charset=utf-8")
	c.Header("Content-Disposition", `attachment; filename="report-`+id+`.csv"`)
	c.Status(http.StatusOK)
	if err := salehistory.WriteCSV(c.Writer, rep); err != nil {
		s.deps.Log.Warn("report CSV cut short", "sale", id, "err", err)
	}
}

// publishFairness answers PUT /v1/admin/sales/:sale/fairness
// {"published": true|false}: the operator publishes the sale's public
// fairness report, or withdraws it; audited either way.
func (s *Server) publishFairness(c *gin.Context) {
	id, ok := s.saleParam(c)
	if !ok {
		return
	}
	var req struct {
		Published *bool `json:"published"`
	}
	if err := c.ShouldBindJSON(&req); err != nil || req.Published == nil {
		s.fail(c, errBadRequest)
		return
	}
	if _, err := s.deps.Operator.Get(c.Request.Context(), id); err != nil {
		s.fail(c, err)
		return
	}
	at, err := s.deps.History.PublishFairness(c.Request.Context(), id, *req.Published, actorOf(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, struct {
		Published   bool       `json:"published"`
		PublishedAt *time.Time `json:"published_at,omitempty"`
	}{at != nil, at})
}

// fairness answers GET /v1/sales/:sale/fairness, to anyone: the sale's
// public fairness report once its operator published it (counts, waits and
// the draw, nothing of any shopper), else 404 fairness_unpublished.
func (s *Server) fairness(c *gin.Context) {
	id, ok := s.saleParam(c)
	if !ok {
		return
	}
	rep, err := s.deps.History.Fairness(c.Request.Context(), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Cache-Control", "public, max-age=30")
	c.JSON(http.StatusOK, rep)
}
