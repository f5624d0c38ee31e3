package server

import (
	"context"
	"fmt"

	"github.com/foyerhq/foyer/internal/branding"
	"github.com/foyerhq/foyer/internal/catalog"
	"github.com/foyerhq/foyer/waitingroom"
)

// An event's products as an admin sends them (docs/products.md): the plan
// of a sale holding several products, each with its own price, stock and
// per-shopper limit.

// productRequest is one product of an event: its own fields, or a product
// of the catalog (catalog_sku) with the event's stock and limit of it.
type productRequest struct {
	SKU                 string `json:"sku,omitempty"`
	Name                string `json:"name,omitempty"`
	PriceCents          int64  `json:"price_cents,omitempty"`
	ListPriceCents      int64  `json:"list_price_cents,omitempty"`
	DiscountPercent     int    `json:"discount_percent,omitempty"`
	DiscountAmountCents int64  `json:"discount_amount_cents,omitempty"`
	Stock               int    `json:"stock"`
	PerShopperLimit     int    `json:"per_shopper_limit"`
	ImageURL            string `json:"image_url,omitempty"`
	Description         string `json:"description,omitempty"`
	// CatalogSKU picks a product of the catalog, as a sale's product_sku
	// does: the event copies its SKU, name, list price, image and
	// description, and later imports change nothing of the event.
	CatalogSKU string `json:"catalog_sku,omitempty"`
}

// eventFieldsSent reports whether the request gives a top-level field an
// event derives from its products.
func (r saleRequest) eventFieldsSent() bool {
	return r.SKU != "" || r.PriceCents != 0 || r.Stock != 0 || r.ProductSKU != "" || r.ListPriceCents != 0 ||
		r.Discount != nil
}

// eventProducts turns the request's products into an event's, looking up
// those given by catalog_sku in the catalog. It refuses, before any look-up,
// a list out of bounds and the top-level fields an event derives.
func (s *Server) eventProducts(ctx context.Context, r saleRequest) ([]waitingroom.Product, error) {
	if n := len(r.Products); n < waitingroom.MinProducts || n > waitingroom.MaxProducts {
		return nil, fmt.Errorf("%w: products must hold between %d and %d products, not %d",
			waitingroom.ErrInvalidSale, waitingroom.MinProducts, waitingroom.MaxProducts, n)
	}
	if r.eventFieldsSent() {
		return nil, fmt.Errorf("%w: with products, sku, price_cents, stock, product_sku, list_price_cents and discount "+
			"are not sent: each product carries its own, and the event's stock is their sum", waitingroom.ErrInvalidSale)
	}
	out := make([]waitingroom.Product, len(r.Products))
	for i, pr := range r.Products {
		var from *catalog.Product
		if pr.CatalogSKU != "" {
			if s.deps.Products == nil {
				return nil, fmt.Errorf("%w: this server keeps no catalog: send each product's sku, name and price_cents", errBadRequest)
			}
			found, err := s.deps.Products.Get(ctx, pr.CatalogSKU)
			if err != nil {
				return nil, fmt.Errorf("products[%d]: %w", i, err)
			}
			from = &found
		}
		p, err := pr.product(r.Currency, from)
		if err != nil {
			return nil, fmt.Errorf("products[%d]: %w", i, err)
		}
		if err := s.productImageShown(i, pr.ImageURL); err != nil {
			return nil, err
		}
		out[i] = p
	}
	return out, nil
}

// product is the event's product the request asks for, made from the
// catalog's when it names one; its price is derived from a discount as a
// sale's is (waitingroom/discount.go).
func (pr productRequest) product(currency string, from *catalog.Product) (waitingroom.Product, error) {
	p := waitingroom.Product{SKU: pr.SKU, Name: pr.Name, PriceCents: pr.PriceCents, Stock: pr.Stock,
		PerShopperLimit: pr.PerShopperLimit, ImageURL: pr.ImageURL, Description: pr.Description}
	list := pr.ListPriceCents
	if from != nil {
		if pr.SKU != "" || pr.Name != "" || pr.PriceCents != 0 || pr.ListPriceCents != 0 || pr.ImageURL != "" || pr.Description != "" {
			return p, fmt.Errorf("%w: catalog_sku gives the product its sku, name, price, image and description: send it or them, not both",
				waitingroom.ErrInvalidSale)
		}
		if cur := currencyOr(currency); from.Currency != cur {
			return p, fmt.Errorf("%w: catalog product %s is priced in %s, the event in %s", waitingroom.ErrInvalidSale, from.SKU, from.Currency, cur)
		}
		p.SKU, p.Name, p.PriceCents = from.SKU, from.Name, from.ListPriceCents
		p.ImageURL, p.Description = from.ImageURL, from.Description
		list = from.ListPriceCents
	}
	var d waitingroom.Discount
	if pr.DiscountPercent != 0 || pr.DiscountAmountCents != 0 {
		dr := waitingroom.DiscountRequest{}
		if pr.DiscountPercent != 0 {
			dr.Percent = &pr.DiscountPercent
		}
		if pr.DiscountAmountCents != 0 {
			dr.AmountCents = &pr.DiscountAmountCents
		}
		var err error
		if d, err = dr.Discount(); err != nil {
			return p, err
		}
	}
	if d.None() {
		if from == nil {
			p.ListPriceCents = pr.ListPriceCents // refused by Validate unless 0: a list price goes with a discount
		}
		return p, nil
	}
	price := p.PriceCents
	p.SetDiscount(list, d)
	if pr.PriceCents != 0 {
		p.PriceCents = price // as sent: Validate refuses it unless it is the derived price
	}
	return p, nil
}

// currencyOr is the sale's currency, the default when none was sent.
func currencyOr(c string) string {
	if c == "" {
		return defaultCurrency
	}
	return c
}

// productImageShown refuses a product's image_url the shopper page would not
// load (a host missing from FOYER_IMAGE_HOSTS, as the branding's images are
// refused): an operator would otherwise believe the image is shown. A
// catalog product's image is the catalog's, taken as it is.
func (s *Server) productImageShown(i int, imageURL string) error {
	if why := branding.ImageProblem(imageURL, s.cfg.ImageHosts); why != "" {
		return fmt.Errorf("%w: products[%d]: image_url %s", waitingroom.ErrInvalidSale, i, why)
	}
	return nil
}
