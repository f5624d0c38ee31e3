package waitingroom

import "fmt"

// A sale may sell below its list price: a discount of a percent or an
// amount off it (docs/admin-api.md, "Discounts"). The plan keeps the list
// price and the discount, and its PriceCents is the sale price derived from
// them, so everything that charges (checkout, the order worker) keeps
// reading PriceCents alone and needs no change.

// Bounds of a discount (docs/defence.md, "Bounds of a sale plan").
const (
	minDiscountPercent = 1
	maxDiscountPercent = 90 // more is a typo, or a giveaway that should say so with its own price
)

// Discount is a cut off a list price: Percent or AmountCents, not both; the
// zero Discount is none.
type Discount struct {
	Percent     int   `json:"percent,omitempty"`
	AmountCents int64 `json:"amount_cents,omitempty"`
}

// None reports whether d takes nothing off.
func (d Discount) None() bool { return d == Discount{} }

// SalePrice is the price after d of listCents. A percent is rounded half up
// to the cent: list × (100 − percent) / 100, so 15 % off 9.99 is 8.49
// (8.4915) and 50 % off 0.99 is 0.50 (0.495). An amount is taken off as it
// is. It assumes d is within its bounds (discountProblems).
func SalePrice(listCents int64, d Discount) int64 {
	if d.Percent > 0 {
		return (listCents*int64(100-d.Percent) + 50) / 100
	}
	return listCents - d.AmountCents
}

// DiscountOf is the plan's discount.
func (p *Plan) DiscountOf() Discount {
	return Discount{Percent: p.DiscountPercent, AmountCents: p.DiscountAmountCents}
}

// SetDiscount gives the plan a discount off listCents, or, with the zero
// Discount, none: then listCents, if not 0, becomes the price. The bounds
// are checked by Validate.
func (p *Plan) SetDiscount(listCents int64, d Discount) {
	p.DiscountPercent, p.DiscountAmountCents = d.Percent, d.AmountCents
	if d.None() {
		if listCents != 0 {
			p.PriceCents = listCents
		}
		p.ListPriceCents = 0
		return
	}
	p.ListPriceCents = listCents
	p.PriceCents = SalePrice(listCents, d)
}

// discountProblems checks the discount's bounds, and that the price is the
// one it derives: a plan whose price was set by hand beside a discount
// would charge what nobody stated.
func (p *Plan) discountProblems() []string {
	d := p.DiscountOf()
	if d.None() {
		if p.ListPriceCents != 0 {
			return []string{"list_price_cents goes with a discount; without one, price_cents is the price"}
		}
		return nil
	}
	var problems []string
	switch {
	case d.Percent != 0 && d.AmountCents != 0:
		return []string{"discount is a percent or an amount_cents, not both"}
	case d.Percent != 0 && (d.Percent < minDiscountPercent || d.Percent > maxDiscountPercent):
		problems = append(problems, fmt.Sprintf("discount percent must be between %d and %d",
			minDiscountPercent, maxDiscountPercent))
	case d.AmountCents != 0 && (d.AmountCents < 1 || d.AmountCents >= p.ListPriceCents):
		problems = append(problems, "discount amount_cents must be at least 1 and below list_price_cents")
	}
	if p.ListPriceCents < 1 || p.ListPriceCents > maxPriceCents {
		problems = append(problems, fmt.Sprintf("list_price_cents must be between 1 and %d with a discount", maxPriceCents))
	}
	if len(problems) == 0 && p.PriceCents != SalePrice(p.ListPriceCents, d) {
		problems = append(problems, "price_cents is derived from list_price_cents and the discount: send one or the other")
	}
	return problems
}

// DiscountRequest is a discount as an admin sends it. Its fields are
// pointers so that a percent or an amount sent as 0 is refused, not taken
// for no discount; neither sent ({}) is none.
type DiscountRequest struct {
	Percent     *int   `json:"percent,omitempty"`
	AmountCents *int64 `json:"amount_cents,omitempty"`
}

// Discount is the discount asked for, or ErrInvalidSale naming what is
// wrong with a field sent as 0 or below, or with both sent.
func (r DiscountRequest) Discount() (Discount, error) {
	switch {
	case r.Percent != nil && r.AmountCents != nil:
		return Discount{}, fmt.Errorf("%w: discount is a percent or an amount_cents, not both", ErrInvalidSale)
	case r.Percent != nil && (*r.Percent < minDiscountPercent || *r.Percent > maxDiscountPercent):
		return Discount{}, fmt.Errorf("%w: discount percent must be between %d and %d",
			ErrInvalidSale, minDiscountPercent, maxDiscountPercent)
	case r.AmountCents != nil && *r.AmountCents < 1:
		return Discount{}, fmt.Errorf("%w: discount amount_cents must be at least 1 and below list_price_cents", ErrInvalidSale)
	case r.Percent != nil:
		return Discount{Percent: *r.Percent}, nil
	case r.AmountCents != nil:
		return Discount{AmountCents: *r.AmountCents}, nil
	}
	return Discount{}, nil
}
