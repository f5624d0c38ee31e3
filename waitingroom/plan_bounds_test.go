package waitingroom

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// freshPlan is a valid plan that starts now, for the bounds that depend on
// the time.
func freshPlan(now time.Time) Plan {
	p := validPlan()
	p.StartsAt, p.EndsAt = now, now.Add(time.Hour)
	return p
}

// shopAt makes a plan's checkout the shop's, at u.
func shopAt(u string) func(*Plan) {
	return func(p *Plan) { p.Checkout, p.CheckoutURL = CheckoutShop, u }
}

func TestEveryFieldOfAPlanOutOfItsBoundIsRefusedByName(t *testing.T) {
	now := time.Now()
	cases := []struct {
		name   string
		change func(*Plan)
		want   string
	}{
		{"a hold of 2^55 seconds, which overflows a Duration", func(p *Plan) { p.ReservationTTLSeconds = 1 << 55 }, "reservation_ttl_seconds"},
		{"a hold of a day and a second", func(p *Plan) { p.ReservationTTLSeconds = 86_401 }, "reservation_ttl_seconds"},
		{"a prequeue of 2^55 seconds", func(p *Plan) { p.PrequeueSeconds = 1 << 55 }, "prequeue_seconds"},
		{"an outflow of 1e-300", func(p *Plan) { p.OutflowPerSecond = 1e-300 }, "outflow_per_second"},
		{"a price of 10^12 cents", func(p *Plan) { p.PriceCents = 1_000_000_000_000 }, "price_cents"},
		{"a name of 201 characters", func(p *Plan) { p.Name = strings.Repeat("é", 201) }, "name must have at most 200"},
		{"a sku of 65 characters", func(p *Plan) { p.SKU = strings.Repeat("A", 65) }, "sku must have at most 64"},
		{"a name with NUL", func(p *Plan) { p.Name = "Sneaker\x00" }, "name must not contain control"},
		{"a sku with a tab", func(p *Plan) { p.SKU = "SKU\t1" }, "sku must not contain control"},
		{"a name with a newline", func(p *Plan) { p.Name = "Two\nlines" }, "name must not contain control"},
		{"a name with a C1 control", func(p *Plan) { p.Name = "x\u0085y" }, "name must not contain control"},
		{"a name of invalid UTF-8", func(p *Plan) { p.Name = "\xff\xfe" }, "name must be valid UTF-8"},
		{"a currency in small letters", func(p *Plan) { p.Currency = "eur" }, "currency"},
		{"a currency that is no currency", func(p *Plan) { p.Currency = "ABC" }, "currency"},
		{"the code for no currency", func(p *Plan) { p.Currency = "XXX" }, "currency"},
		{"a currency with NUL", func(p *Plan) { p.Currency = "EU\x00" }, "currency"},
		{"a start in 1970", func(p *Plan) { p.StartsAt = time.Unix(0, 0) }, "starts_at must be at most 60 minutes in the past"},
		{"a start two years ahead", func(p *Plan) {
			p.StartsAt = now.AddDate(2, 0, 0)
			p.EndsAt = p.StartsAt.Add(time.Hour)
		}, "starts_at must be at most 366 days ahead"},
		{"an end in the past", func(p *Plan) {
			p.StartsAt, p.EndsAt = now.Add(-50*time.Minute), now.Add(-time.Minute)
		}, "ends_at must be in the future"},
		{"an identity of maybe", func(p *Plan) { p.Identity = "maybe" }, "identity must be off, optional or required"},
		{"a checkout of other", func(p *Plan) { p.Checkout = "other" }, "checkout must be foyer or shop"},
		{"an eligibility of vip", func(p *Plan) { p.Eligibility = "vip" }, "eligibility must be everyone or invited"},
		{"a shop checkout without a url", func(p *Plan) { p.Checkout = CheckoutShop }, "checkout_url is required when checkout is shop"},
		{"a url for a foyer checkout", func(p *Plan) { p.CheckoutURL = "https://shop.example/" }, "checkout_url is only for a sale whose checkout is shop"},
		{"an ftp checkout url", shopAt("ftp://shop.example/checkout"), "checkout_url must be https://"},
		{"a plain http checkout url off this machine", shopAt("http://example.com/checkout"), "checkout_url must be https://"},
		{"a relative checkout url", shopAt("/checkout"), "checkout_url must be an absolute URL"},
		{"a checkout url of 501 characters", shopAt("https://shop.example/" + strings.Repeat("a", 480)), "checkout_url must have at most 500"},
		{"a checkout url with a tab", shopAt("https://shop.example/\tcheckout"), "checkout_url must not contain control"},
		{"a checkout url with a fragment", shopAt("https://shop.example/checkout#pay"), "checkout_url must not have a fragment"},
		{"a checkout url with a password", shopAt("https://a:b@shop.example/checkout"), "checkout_url must not hold a user"},
		{"a sale of two years", func(p *Plan) { p.EndsAt = p.StartsAt.AddDate(2, 0, 0) }, "a sale may last at most 366 days"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := freshPlan(now)
			tc.change(&p)
			err := p.ValidateAt(now)
			if !errors.Is(err, ErrInvalidSale) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ValidateAt() = %v, want ErrInvalidSale about %q", err, tc.want)
			}
		})
	}
	for _, ok := range []func(*Plan){
		func(p *Plan) { p.Name = strings.Repeat("é", 200) }, // 400 bytes, 200 characters
		func(p *Plan) { p.Currency = "JPY" },
		func(p *Plan) { p.OutflowPerSecond = 0.01 },
		func(p *Plan) { p.StartsAt = now.Add(-59 * time.Minute) },
		func(p *Plan) { p.ReservationTTLSeconds, p.PrequeueSeconds = 86_400, 604_800 },
		shopAt("https://shop.example/" + strings.Repeat("a", 479)), // 500 characters
		shopAt("https://shop.example/checkout?cart=42"),
		shopAt("http://localhost:8080/checkout"),
		shopAt("http://127.0.0.1/checkout"),
	} {
		p := freshPlan(now)
		ok(&p)
		if err := p.ValidateAt(now); err != nil {
			t.Errorf("a plan at its bounds: %v", err)
		}
	}
}

func TestEveryControlOutOfItsBoundIsRefused(t *testing.T) {
	cases := []struct {
		name string
		c    Control
		want string
	}{
		{"a message with NUL", Control{Action: ActionMessage, Text: "Doors\x00open"}, "message must not contain control"},
		{"a message of 501 characters", Control{Action: ActionMessage, Text: strings.Repeat("ü", 501)}, "message must have at most 500"},
		{"a rate of 1e-300", Control{Action: ActionRate, Value: 1e-300}, "outflow_per_second"},
		{"stock of 2^53+1", Control{Action: ActionAddStock, Value: 9007199254740993}, "add must be"},
		{"a difficulty of 1e300", Control{Action: ActionPow, Value: 1e300}, "difficulty"},
		{"an actor with NUL", Control{Action: ActionPause, Actor: "ad\x00min"}, "actor"},
	}
	for _, tc := range cases {
		if err := tc.c.validate(); !errors.Is(err, ErrInvalidSale) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: validate() = %v, want ErrInvalidSale about %q", tc.name, err, tc.want)
		}
	}
	if err := (Control{Action: ActionMessage, Text: strings.Repeat("ü", 500), Actor: "admin"}).validate(); err != nil {
		t.Errorf("a message of 500 characters (1000 bytes): %v", err)
	}
	// A blank message clears the one shown (Control), so it is no longer refused.
	for _, blank := range []string{"", " "} {
		if err := (Control{Action: ActionMessage, Text: blank, Actor: "admin"}).validate(); err != nil {
			t.Errorf("a blank message, which clears: %v", err)
		}
	}
}

// TestTheBoundsOfASalePlanAreDocumented keeps the table in docs/defence.md
// true: each row must name the bounds the code enforces.
func TestTheBoundsOfASalePlanAreDocumented(t *testing.T) {
	doc, err := os.ReadFile("../docs/defence.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(doc), "## Bounds of a sale plan")
	if !ok {
		t.Fatal(`docs/defence.md has no section "Bounds of a sale plan"`)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	rows := []string{
		fmt.Sprintf("| `sku` | 1 to %d characters |", maxSKULen),
		fmt.Sprintf("| `name` | 1 to %d characters |", maxNameLen),
		fmt.Sprintf("| `price_cents` | 0 to %d |", maxPriceCents),
		"| `currency` | an ISO 4217 code in capitals",
		fmt.Sprintf("| `stock` | 1 to %d, and adding stock never takes a sale past %d |", maxStock, maxStock),
		fmt.Sprintf("| `starts_at` | at most %d minutes in the past and at most %d days ahead |",
			int(maxStartsInPast.Minutes()), int(maxStartsAhead.Hours()/24)),
		fmt.Sprintf("| `ends_at` | after `starts_at` and after now, at most %d days after `starts_at` |", int(maxSaleLength.Hours()/24)),
		fmt.Sprintf("| `outflow_per_second` | %g to %d |", minOutflow, maxOutflow),
		fmt.Sprintf("| `reservation_ttl_seconds` | %d to %d |", minReservationTTL, maxReservationTTL),
		fmt.Sprintf("| `prequeue_seconds` | 0 to %d |", maxPrequeue),
		fmt.Sprintf("| `per_shopper_limit` | 1 to %d |", maxPerShopper),
		fmt.Sprintf("| `per_customer_units` | 0 (no bound but `per_shopper_limit` per order) to %d |", maxPerCustomerUnits),
		fmt.Sprintf("| `per_customer_orders` | 1 (the default) to %d |", maxPerCustomerOrders),
		fmt.Sprintf("| `pow_difficulty` | 0 to %d |", MaxPowDifficulty),
		"| `identity` | `off` (the default), `optional` or `required` |",
		"| `checkout` | `foyer` (the default) or `shop` |",
		fmt.Sprintf("| `checkout_url` | required when `checkout` is `shop`, refused otherwise: an absolute `https://` URL (`http://` only for `localhost` and `127.0.0.1`), at most %d characters, with no fragment and no user or password |", maxCheckoutURLLen),
		fmt.Sprintf("| `list_price_cents` | 1 to %d, only with a `discount` (0, the default, without one) |", maxPriceCents),
		fmt.Sprintf("| `discount` | `{\"percent\": N}` with N %d to %d, or `{\"amount_cents\": N}` with N at least 1 and below `list_price_cents`, never both;",
			minDiscountPercent, maxDiscountPercent),
		fmt.Sprintf("| message `text` | 0 to %d characters (empty or blank clears the one shown; a scheduled one 1 to %d) |", maxMessageLen, maxMessageLen),
		fmt.Sprintf("| `Idempotency-Key` of a create | at most %d characters |", maxIdempotencyKeyLen),
	}
	for _, row := range rows {
		if !strings.Contains(section, row) {
			t.Errorf("the bounds table lacks the row %q", row)
		}
	}
}
