package server

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/foyerhq/foyer/internal/catalog"
)

// The shop's catalog: products imported as CSV or JSON (POST
// /v1/admin/products), listed a page at a time, deleted by SKU, and picked
// when a sale is created (admin.go, product_sku). docs/admin-api.md.

// Products keeps the shop's catalog (internal/catalog).
type Products interface {
	Import(ctx context.Context, ps []catalog.Product, actor string) (catalog.Imported, error)
	List(ctx context.Context, limit, cursor string) (catalog.Page, error)
	Get(ctx context.Context, sku string) (catalog.Product, error)
	Delete(ctx context.Context, sku, actor string) error
}

// maxCatalogBody caps an import's body: 10,000 products of a few hundred
// bytes each, with room for long descriptions. A bigger catalog is
// imported in parts.
const maxCatalogBody = 8 << 20

// importProducts upserts the products of a CSV (Content-Type text/csv) or
// JSON body; one bad row refuses them all, naming the row.
func (s *Server) importProducts(c *gin.Context) {
	body, err := io.ReadAll(c.Request.Body)
	if err != nil {
		s.fail(c, bodyRefusal(c, fmt.Errorf("%w: read the import: %v", errBadRequest, err)))
		return
	}
	var ps []catalog.Product
	switch media, _, _ := mime.ParseMediaType(c.GetHeader("Content-Type")); media {
	case "text/csv":
		ps, err = catalog.ParseCSV(bytes.NewReader(body))
	case "application/json":
		ps, err = catalog.ParseJSON(body)
	default:
		err = fmt.Errorf("%w: Content-Type must be text/csv or application/json, not %q", catalog.ErrInvalid, media)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	done, err := s.deps.Products.Import(c.Request.Context(), ps, actorOf(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, done)
}

// listProducts answers one page of the catalog (?limit=&cursor=).
func (s *Server) listProducts(c *gin.Context) {
	page, err := s.deps.Products.List(c.Request.Context(), c.Query("limit"), c.Query("cursor"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, page)
}

// deleteProduct removes a product; sales made from it keep their copy.
func (s *Server) deleteProduct(c *gin.Context) {
	sku := c.Param("sku")
	if err := s.deps.Products.Delete(c.Request.Context(), sku, actorOf(c)); err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"deleted": sku})
}
