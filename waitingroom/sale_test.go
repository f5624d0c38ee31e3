package waitingroom

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func validPlan() Plan {
	start := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	return Plan{SKU: "SKU-1", Name: "Sneaker", PriceCents: 9900, Currency: "EUR", Stock: 100,
		StartsAt: start, EndsAt: start.Add(time.Hour), OutflowPerSecond: 10, ReservationTTLSeconds: 300, PerShopperLimit: 1}
}

func TestPlanValidationNamesEveryProblem(t *testing.T) {
	cases := []struct {
		name   string
		change func(*Plan)
		want   string
	}{
		{"no sku", func(p *Plan) { p.SKU = " " }, "sku is required"},
		{"no name", func(p *Plan) { p.Name = "" }, "name is required"},
		{"negative price", func(p *Plan) { p.PriceCents = -1 }, "price_cents"},
		{"bad currency", func(p *Plan) { p.Currency = "EURO" }, "currency"},
		{"no stock", func(p *Plan) { p.Stock = 0 }, "stock"},
		{"ends before it starts", func(p *Plan) { p.EndsAt = p.StartsAt }, "ends_at"},
		{"no outflow", func(p *Plan) { p.OutflowPerSecond = 0 }, "outflow_per_second"},
		{"hold too short", func(p *Plan) { p.ReservationTTLSeconds = 1 }, "reservation_ttl_seconds"},
		{"limit too high", func(p *Plan) { p.PerShopperLimit = 11 }, "per_shopper_limit"},
		{"pow too hard", func(p *Plan) { p.PowDifficulty = MaxPowDifficulty + 1 }, "pow_difficulty"},
		{"negative pow", func(p *Plan) { p.PowDifficulty = -1 }, "pow_difficulty"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := validPlan()
			tc.change(&p)
			err := p.Validate()
			if !errors.Is(err, ErrInvalidSale) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate() = %v, want ErrInvalidSale about %q", err, tc.want)
			}
		})
	}
	p := validPlan()
	if err := p.Validate(); err != nil {
		t.Errorf("a valid plan: %v", err)
	}
}

func TestSaleIDsAreSafeForKeysAndURLs(t *testing.T) {
	for range 100 {
		if id := newSaleID(); !ValidSaleID(id) {
			t.Fatalf("newSaleID() = %q, which ValidSaleID refuses", id)
		}
	}
	for _, bad := range []string{"", "ab", "S_UPPER", "a b c", "x}{y", strings.Repeat("a", 65), "sale:{1}"} {
		if ValidSaleID(bad) {
			t.Errorf("ValidSaleID(%q) = true", bad)
		}
	}
}
