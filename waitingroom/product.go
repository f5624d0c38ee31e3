package waitingroom

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// An event is a sale holding several products (docs/products.md): one
// window, one prequeue, one queue, and a list of products each with its own
// price, stock and per-shopper limit. Admission holds a unit of the event,
// not of a product; the shopper's checkout chooses the product, and is what
// takes its unit. A sale without products is a single-product sale, and
// nothing of it changes.

// Product is one product of an event.
type Product struct {
	SKU        string `db:"sku" json:"sku"`
	Name       string `db:"name" json:"name"`
	PriceCents int64  `db:"price_cents" json:"price_cents"`
	// ListPriceCents, DiscountPercent and DiscountAmountCents are the
	// product's discount, as a single-product sale's are (discount.go).
	ListPriceCents      int64 `db:"list_price_cents" json:"list_price_cents,omitempty"`
	DiscountPercent     int   `db:"discount_percent" json:"discount_percent,omitempty"`
	DiscountAmountCents int64 `db:"discount_amount_cents" json:"discount_amount_cents,omitempty"`
	// Stock is how many units of the product the event sells.
	Stock int `db:"stock" json:"stock"`
	// PerShopperLimit is how many units of this product one shopper may
	// buy in the event, over all its orders.
	PerShopperLimit int    `db:"per_shopper_limit" json:"per_shopper_limit"`
	ImageURL        string `db:"image_url" json:"image_url,omitempty"`
	Description     string `db:"description" json:"description,omitempty"`
}

// Bounds of an event's products (docs/defence.md, "Bounds of a sale plan").
const (
	MinProducts = 2  // one product is a single-product sale
	MaxProducts = 20 // the status of an event carries every product's left each push
	// maxImageURLLen and maxDescriptionLen are the catalog's bounds
	// (internal/catalog), so any catalog product can be an event's.
	maxImageURLLen    = 500
	maxDescriptionLen = 2_000
)

// IsEvent reports whether the sale holds several products.
func (p *Plan) IsEvent() bool { return len(p.Products) > 0 }

// Product returns the event's product with this SKU.
func (p *Plan) Product(sku string) (Product, bool) {
	for _, pr := range p.Products {
		if pr.SKU == sku {
			return pr, true
		}
	}
	return Product{}, false
}

// SetProducts makes the plan an event of these products: its stock is their
// sum, its price the lowest of theirs (what a listing shows as "from"), its
// sku empty, and its per-shopper limit, when unset, the highest of theirs.
// Validate checks the rest.
func (p *Plan) SetProducts(products []Product) {
	p.Products = products
	p.SKU, p.ListPriceCents, p.DiscountPercent, p.DiscountAmountCents = "", 0, 0, 0
	p.Stock, p.PriceCents = 0, 0
	limit := 0
	for i, pr := range products {
		p.Stock += pr.Stock
		if i == 0 || pr.PriceCents < p.PriceCents {
			p.PriceCents = pr.PriceCents
		}
		limit = max(limit, pr.PerShopperLimit)
	}
	if p.PerShopperLimit == 0 {
		p.PerShopperLimit = limit
	}
}

// productProblems checks an event's products: how many, each one's fields
// within a single-product sale's bounds, SKUs unique, and the plan's own
// sku, price and stock as SetProducts derives them.
func (p *Plan) productProblems() []string {
	var problems []string
	if n := len(p.Products); n < MinProducts || n > MaxProducts {
		problems = append(problems, fmt.Sprintf("products must hold between %d and %d products, not %d", MinProducts, MaxProducts, n))
	}
	seen := make(map[string]bool, len(p.Products))
	total := 0
	for i, pr := range p.Products {
		field := fmt.Sprintf("products[%d].", i)
		for _, why := range pr.problems() {
			problems = append(problems, field+why)
		}
		if seen[pr.SKU] {
			problems = append(problems, fmt.Sprintf("%ssku %q is given twice: each product's sku must be unique", field, pr.SKU))
		}
		seen[pr.SKU] = true
		total += pr.Stock
	}
	if total > maxStock {
		problems = append(problems, fmt.Sprintf("the products' stock adds up to %d, above the most a sale may have, %d", total, maxStock))
	}
	if p.SKU != "" {
		problems = append(problems, "sku goes with a single-product sale: an event's products carry their own")
	}
	if !p.DiscountOf().None() || p.ListPriceCents != 0 {
		problems = append(problems, "an event's discounts are its products' own")
	}
	if p.Stock != total {
		problems = append(problems, "stock of an event is the sum of its products' stock")
	}
	return problems
}

// problems lists what is wrong with one product, each naming its field.
func (pr Product) problems() []string {
	var problems []string
	// A sku is a field name in Redis (p:<sku>:left): nothing but text of
	// one line, as a sale's own.
	problems = appendText(problems, "sku", pr.SKU, maxSKULen)
	problems = appendText(problems, "name", pr.Name, maxNameLen)
	if pr.PriceCents < 0 || pr.PriceCents > maxPriceCents {
		problems = append(problems, fmt.Sprintf("price_cents must be between 0 and %d", maxPriceCents))
	}
	price := Plan{PriceCents: pr.PriceCents, ListPriceCents: pr.ListPriceCents,
		DiscountPercent: pr.DiscountPercent, DiscountAmountCents: pr.DiscountAmountCents}
	problems = append(problems, price.discountProblems()...)
	if pr.Stock < 1 || pr.Stock > maxStock {
		problems = append(problems, fmt.Sprintf("stock must be between 1 and %d", maxStock))
	}
	if pr.PerShopperLimit < 1 || pr.PerShopperLimit > maxPerShopper {
		problems = append(problems, fmt.Sprintf("per_shopper_limit must be between 1 and %d", maxPerShopper))
	}
	if why := imageURLProblem(pr.ImageURL); why != "" {
		problems = append(problems, "image_url "+why)
	}
	if why := descriptionProblem(pr.Description); why != "" {
		problems = append(problems, "description "+why)
	}
	return problems
}

// SetDiscount gives the product a discount off listCents, as Plan's
// SetDiscount does a sale.
func (pr *Product) SetDiscount(listCents int64, d Discount) {
	p := Plan{PriceCents: pr.PriceCents}
	p.SetDiscount(listCents, d)
	pr.PriceCents, pr.ListPriceCents = p.PriceCents, p.ListPriceCents
	pr.DiscountPercent, pr.DiscountAmountCents = p.DiscountPercent, p.DiscountAmountCents
}

// imageURLProblem says what is wrong with a product's image address, as
// the catalog does: the shoppers' page loads only https.
func imageURLProblem(s string) string {
	if s == "" {
		return ""
	}
	if why := textProblem(s, maxImageURLLen); why != "" {
		return why
	}
	if !strings.HasPrefix(s, "https://") || checkoutURLProblem(s) != "" {
		return "must be an absolute https:// URL without a user, password or fragment"
	}
	return ""
}

// descriptionProblem says what is wrong with a product's description: text
// of at most maxDescriptionLen characters, newlines allowed (it is shown as
// paragraphs), no other control character.
func descriptionProblem(s string) string {
	if !utf8.ValidString(s) {
		return "must be valid UTF-8"
	}
	if n := utf8.RuneCountInString(s); n > maxDescriptionLen {
		return fmt.Sprintf("must have at most %d characters, not %d", maxDescriptionLen, n)
	}
	if strings.IndexFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\n' }) >= 0 {
		return "must not contain control characters but newlines"
	}
	return ""
}

// stockProduct checks the product stock is added to: an event's own
// (ErrProductRequired, ErrProductUnknown), or, in a single-product sale,
// its sku or none.
func (p *Plan) stockProduct(sku string) error {
	switch {
	case p.IsEvent() && sku == "":
		return ErrProductRequired
	case p.IsEvent():
		if _, ok := p.Product(sku); !ok {
			return fmt.Errorf("%w: %q", ErrProductUnknown, sku)
		}
	case sku != "" && sku != p.SKU:
		return fmt.Errorf("%w: %q", ErrProductUnknown, sku)
	}
	return nil
}

// ValidProductSKU reports whether sku could name a product, so that a
// checkout's product field is bounded before it reaches Redis.
func ValidProductSKU(sku string) bool { return textProblem(sku, maxSKULen) == "" && sku != "" }
