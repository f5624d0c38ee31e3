package waitingroom

import (
	"errors"
	"strings"
	"testing"
)

func TestASalePriceIsTheListPriceLessTheDiscountRoundedHalfUpToTheCent(t *testing.T) {
	cases := []struct {
		list int64
		d    Discount
		want int64
	}{
		{8000, Discount{Percent: 25}, 6000},
		{999, Discount{Percent: 15}, 849},   // 849.15
		{99, Discount{Percent: 50}, 50},     // 49.5 rounds up
		{1999, Discount{Percent: 10}, 1799}, // 1799.1
		{1005, Discount{Percent: 90}, 101},  // 100.5 rounds up
		{8000, Discount{AmountCents: 2000}, 6000},
		{8000, Discount{AmountCents: 7999}, 1},
		{1_000_000_000, Discount{Percent: 1}, 990_000_000},
	}
	for _, tc := range cases {
		if got := SalePrice(tc.list, tc.d); got != tc.want {
			t.Errorf("SalePrice(%d, %+v) = %d, want %d", tc.list, tc.d, got, tc.want)
		}
	}
}

func TestADiscountOutOfItsBoundsIsRefusedByName(t *testing.T) {
	zero, ninetyOne, eighty := 0, 91, 80
	var noAmount, amount int64 = 0, 500
	for _, tc := range []struct {
		name string
		req  DiscountRequest
		want string
	}{
		{"a percent of 0", DiscountRequest{Percent: &zero}, "discount percent must be between 1 and 90"},
		{"a percent of 91", DiscountRequest{Percent: &ninetyOne}, "discount percent must be between 1 and 90"},
		{"an amount of 0", DiscountRequest{AmountCents: &noAmount}, "discount amount_cents must be at least 1"},
		{"both kinds at once", DiscountRequest{Percent: &eighty, AmountCents: &amount}, "not both"},
	} {
		if _, err := tc.req.Discount(); !errors.Is(err, ErrInvalidSale) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want ErrInvalidSale about %q", tc.name, err, tc.want)
		}
	}
	plan := func(change func(*Plan)) Plan {
		p := validPlan()
		p.SetDiscount(8000, Discount{Percent: 25})
		change(&p)
		return p
	}
	for _, tc := range []struct {
		name string
		p    Plan
		want string
	}{
		{"an amount equal to the list price", plan(func(p *Plan) { p.SetDiscount(8000, Discount{AmountCents: 8000}) }),
			"discount amount_cents must be at least 1 and below list_price_cents"},
		{"an amount above the list price", plan(func(p *Plan) { p.SetDiscount(8000, Discount{AmountCents: 9000}) }),
			"below list_price_cents"},
		{"a percent of 95 set directly", plan(func(p *Plan) { p.DiscountPercent = 95 }), "discount percent must be between 1 and 90"},
		{"a price set by hand beside a discount", plan(func(p *Plan) { p.PriceCents = 5000 }), "price_cents is derived"},
		{"a list price without a discount", plan(func(p *Plan) { p.DiscountPercent = 0 }), "list_price_cents goes with a discount"},
		{"a discount off no list price", plan(func(p *Plan) { p.ListPriceCents, p.PriceCents = 0, 0 }), "list_price_cents must be between 1"},
	} {
		if err := tc.p.Validate(); !errors.Is(err, ErrInvalidSale) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Validate() = %v, want ErrInvalidSale about %q", tc.name, err, tc.want)
		}
	}
	if p := plan(func(*Plan) {}); p.Validate() != nil || p.PriceCents != 6000 || p.ListPriceCents != 8000 {
		t.Errorf("25 %% off 80.00: %+v, %v", p, p.Validate())
	}
}

func TestAnEditAddsChangesAndRemovesADiscountDerivingThePrice(t *testing.T) {
	base := validPlan() // 99.00, no discount
	twenty := 20
	var list int64 = 10000
	added, err := PlanChange{Discount: &DiscountRequest{Percent: &twenty}}.applyTo(base)
	if err != nil || added.ListPriceCents != 9900 || added.PriceCents != 7920 || added.Validate() != nil {
		t.Fatalf("20 %% off a sale of 99.00: %+v, %v", added, err)
	}
	relisted, err := PlanChange{ListPriceCents: &list}.applyTo(added)
	if err != nil || relisted.PriceCents != 8000 || relisted.DiscountPercent != 20 || relisted.Validate() != nil {
		t.Errorf("a new list price of 100.00 at 20 %% off: %+v, %v", relisted, err)
	}
	removed, err := PlanChange{Discount: &DiscountRequest{}}.applyTo(relisted)
	if err != nil || removed.PriceCents != 10000 || removed.ListPriceCents != 0 || !removed.DiscountOf().None() || removed.Validate() != nil {
		t.Errorf("the discount removed: %+v, %v", removed, err)
	}
	var hand int64 = 5000
	if p, _ := (PlanChange{PriceCents: &hand}).applyTo(added); !errors.Is(p.Validate(), ErrInvalidSale) {
		t.Errorf("a price by hand beside a discount was taken: %+v", p)
	}
}
