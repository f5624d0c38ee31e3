package waitingroom

import (
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/currency"
)

// State is where a sale is in its life.
type State string

const (
	StateScheduled State = "scheduled" // before the prequeue opens: shoppers see the countdown
	StatePrequeue  State = "prequeue"  // before starts_at: joiners are drawn in random order at the start
	StateOpen      State = "open"      // admitting at the outflow rate
	StatePaused    State = "paused"    // open, but admitting nobody
	StateSoldOut   State = "sold_out"  // every unit is sold; final
	StateEnded     State = "ended"     // past ends_at or stopped by an operator; final
)

// Plan is what an operator decides about a sale. Postgres is its system of
// record; Redis holds a copy next to the sale's live state.
type Plan struct {
	ID         string `db:"id" json:"id"`
	SKU        string `db:"sku" json:"sku"`
	Name       string `db:"name" json:"name"`
	PriceCents int64  `db:"price_cents" json:"price_cents"`
	// ListPriceCents is the price before the discount, shown struck
	// through; 0, with no discount, is none (discount.go).
	ListPriceCents int64 `db:"list_price_cents" json:"list_price_cents,omitempty"`
	// DiscountPercent or DiscountAmountCents (not both) is what comes off
	// ListPriceCents to make PriceCents; both 0 is no discount.
	DiscountPercent       int       `db:"discount_percent" json:"discount_percent,omitempty"`
	DiscountAmountCents   int64     `db:"discount_amount_cents" json:"discount_amount_cents,omitempty"`
	Currency              string    `db:"currency" json:"currency"`
	Stock                 int       `db:"stock" json:"stock"`
	StartsAt              time.Time `db:"starts_at" json:"starts_at"`
	EndsAt                time.Time `db:"ends_at" json:"ends_at"`
	OutflowPerSecond      float64   `db:"outflow_per_second" json:"outflow_per_second"`
	ReservationTTLSeconds int       `db:"reservation_ttl_seconds" json:"reservation_ttl_seconds"`
	// PrequeueSeconds is how long before the start the prequeue opens.
	PrequeueSeconds int `db:"prequeue_seconds" json:"prequeue_seconds"`
	// PerShopperLimit is how many units one shopper may buy.
	PerShopperLimit int `db:"per_shopper_limit" json:"per_shopper_limit"`
	// PerCustomerUnits bounds the units one customer (one shopper id: a
	// customer signed in with the shop's identity token is one everywhere)
	// may buy across the whole sale, in all its orders; 0, the default,
	// bounds them by PerShopperLimit per order alone.
	PerCustomerUnits int `db:"per_customer_units" json:"per_customer_units"`
	// PerCustomerOrders is how many orders one customer may make in the
	// sale; 0 or 1, the default, is one (after it, a join gives the
	// shopper its order back instead of a place). With more, a customer
	// with orders and units to go queues again after each order.
	PerCustomerOrders int `db:"per_customer_orders" json:"per_customer_orders"`
	// PowDifficulty is the proof of work a shopper does before joining, in
	// leading zero bits (docs/pow.md); 0, the default, is off.
	PowDifficulty int `db:"pow_difficulty" json:"pow_difficulty"`
	// Identity is whether joining asks for a known customer (a session made
	// from the shop's identity token): IdentityOff, the default (empty is
	// off), IdentityOptional or IdentityRequired.
	Identity IdentityMode `db:"identity" json:"identity"`
	// Checkout is where an admitted shopper pays: CheckoutFoyer, the default
	// (empty is foyer), or CheckoutShop, at CheckoutURL.
	Checkout CheckoutMode `db:"checkout" json:"checkout"`
	// CheckoutURL is the shop's checkout page for a CheckoutShop sale; the
	// admitted message sends the shopper there with the reservation token.
	CheckoutURL string `db:"checkout_url" json:"checkout_url,omitempty"`
	// Eligibility is who may join: EligibleEveryone, the default (empty is
	// everyone), or EligibleInvited (eligibility.go).
	Eligibility Eligibility `db:"eligibility" json:"eligibility"`
	// IdempotencyKey, when set, makes creating the sale safe to retry
	// (Operator.Create); it is stored with the sale, unique.
	IdempotencyKey string `db:"idempotency_key" json:"-"`
	// Fingerprint identifies the request that created the sale, so that a
	// key sent again with another request is told apart from a retry.
	Fingerprint string `db:"request_fingerprint" json:"-"`
	// Products makes the sale an event of several products (product.go,
	// docs/products.md); none is a single-product sale. Kept in
	// sale_products, in their order.
	Products []Product `db:"-" json:"products,omitempty"`
}

// IdentityMode is whether a sale asks its shoppers who they are
// (docs/integration.md, "Known customers").
type IdentityMode string

const (
	IdentityOff      IdentityMode = "off"      // anonymous, as before identity: every session may join
	IdentityOptional IdentityMode = "optional" // customers and anonymous shoppers both join
	IdentityRequired IdentityMode = "required" // only customers join; others get ErrIdentityRequired
)

// IdentityModeOf is the plan's identity mode, off when unset.
func (p *Plan) IdentityModeOf() IdentityMode {
	if p.Identity == "" {
		return IdentityOff
	}
	return p.Identity
}

// CheckoutMode is where an admitted shopper checks out
// (docs/integration.md, "The shop's own checkout").
type CheckoutMode string

const (
	CheckoutFoyer CheckoutMode = "foyer" // Foyer's own checkout, POST /v1/sales/{id}/checkout
	CheckoutShop  CheckoutMode = "shop"  // the shop's page at the plan's CheckoutURL
)

// CheckoutModeOf is the plan's checkout mode, foyer when unset.
func (p *Plan) CheckoutModeOf() CheckoutMode {
	if p.Checkout == "" {
		return CheckoutFoyer
	}
	return p.Checkout
}

// PrequeueAt is when shoppers may start to join.
func (p *Plan) PrequeueAt() time.Time {
	return p.StartsAt.Add(-time.Duration(p.PrequeueSeconds) * time.Second)
}

// ReservationTTL is how long an admitted shopper has to check out.
func (p *Plan) ReservationTTL() time.Duration {
	return time.Duration(p.ReservationTTLSeconds) * time.Second
}

// Bounds of a plan, so that a typo cannot create a sale nobody can run and a
// huge field cannot ride in every welcome. docs/defence.md ("Bounds of a sale
// plan") lists them; plan_bounds_test.go keeps that table true. Lengths are
// in characters (Unicode code points), not bytes.
const (
	maxSKULen         = 64
	maxNameLen        = 200
	maxPriceCents     = 1_000_000_000 // ten million in the currency's major unit
	maxStock          = 10_000_000
	minOutflow        = 0.001 // one shopper every 1000 seconds: a sale held still on purpose
	maxOutflow        = 100_000
	minReservationTTL = 10      // seconds
	maxReservationTTL = 86_400  // seconds: a day
	maxPrequeue       = 604_800 // seconds: a week
	maxPerShopper     = 10
	// maxPerCustomerUnits and maxPerCustomerOrders bound the per-customer
	// limit (migrations/00012_redeem.sql has the same CHECKs).
	maxPerCustomerUnits  = 100
	maxPerCustomerOrders = 10
	maxCheckoutURLLen    = 500 // characters
	// maxStartsInPast is how long before now a sale may start: an admin's
	// clock or a slow request, not a sale of 1970.
	maxStartsInPast = time.Hour
	// maxStartsAhead is how far ahead a sale may start.
	maxStartsAhead = 366 * 24 * time.Hour
	// maxSaleLength is how long a sale may run, from start to end.
	maxSaleLength = 366 * 24 * time.Hour
	// MaxPowDifficulty bounds a sale's proof of work: 2^24 hashes is minutes
	// in a desktop browser, so anything above is a typo. It is below
	// pow.MaxDifficulty, and the same as the CHECK in migrations/00005_pow.sql.
	MaxPowDifficulty = 24
)

// Validate reports every problem with the plan at once, wrapped in
// ErrInvalidSale, leaving out the bounds that depend on the time (ValidateAt).
func (p *Plan) Validate() error { return p.validate(time.Time{}) }

// ValidateAt is Validate, and also refuses a plan that starts more than
// maxStartsInPast before now or more than maxStartsAhead after it, or that has
// ended by now: what a new sale is checked against.
func (p *Plan) ValidateAt(now time.Time) error { return p.validate(now) }

func (p *Plan) validate(now time.Time) error {
	var problems []string
	if p.IsEvent() {
		problems = append(problems, p.productProblems()...)
	} else {
		problems = appendText(problems, "sku", p.SKU, maxSKULen)
	}
	problems = appendText(problems, "name", p.Name, maxNameLen)
	if p.PriceCents < 0 || p.PriceCents > maxPriceCents {
		problems = append(problems, fmt.Sprintf("price_cents must be between 0 and %d", maxPriceCents))
	}
	problems = append(problems, p.discountProblems()...)
	if !validCurrency(p.Currency) {
		problems = append(problems, "currency must be an ISO 4217 code in capitals, such as EUR")
	}
	if p.Stock < 1 || p.Stock > maxStock {
		problems = append(problems, fmt.Sprintf("stock must be between 1 and %d", maxStock))
	}
	problems = append(problems, p.scheduleProblems(now)...)
	if !(p.OutflowPerSecond >= minOutflow && p.OutflowPerSecond <= maxOutflow) { // refuses NaN too
		problems = append(problems, fmt.Sprintf("outflow_per_second must be between %g and %d", minOutflow, maxOutflow))
	}
	// Compared as whole seconds before any conversion to a Duration, which
	// would overflow for a huge number and slip past the bounds.
	if p.ReservationTTLSeconds < minReservationTTL || p.ReservationTTLSeconds > maxReservationTTL {
		problems = append(problems, fmt.Sprintf("reservation_ttl_seconds must be between %d and %d",
			minReservationTTL, maxReservationTTL))
	}
	if p.PrequeueSeconds < 0 || p.PrequeueSeconds > maxPrequeue {
		problems = append(problems, fmt.Sprintf("prequeue_seconds must be between 0 and %d", maxPrequeue))
	}
	if p.PerShopperLimit < 1 || p.PerShopperLimit > maxPerShopper {
		problems = append(problems, fmt.Sprintf("per_shopper_limit must be between 1 and %d", maxPerShopper))
	}
	problems = append(problems, p.perCustomerProblems()...)
	if p.PowDifficulty < 0 || p.PowDifficulty > MaxPowDifficulty {
		problems = append(problems, fmt.Sprintf("pow_difficulty must be between 0 and %d", MaxPowDifficulty))
	}
	switch p.IdentityModeOf() {
	case IdentityOff, IdentityOptional, IdentityRequired:
	default:
		problems = append(problems, "identity must be off, optional or required")
	}
	problems = append(problems, p.checkoutProblems()...)
	switch p.EligibilityOf() {
	case EligibleEveryone, EligibleInvited:
	default:
		problems = append(problems, "eligibility must be everyone or invited")
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: %s", ErrInvalidSale, strings.Join(problems, "; "))
	}
	return nil
}

// PerCustomerOrdersOf is how many orders one customer may make, 1 when unset.
func (p *Plan) PerCustomerOrdersOf() int { return max(p.PerCustomerOrders, 1) }

// perCustomerProblems checks the per-customer limit's bounds.
func (p *Plan) perCustomerProblems() []string {
	var problems []string
	if p.PerCustomerUnits < 0 || p.PerCustomerUnits > maxPerCustomerUnits {
		problems = append(problems, fmt.Sprintf("per_customer_units must be between 0 (no bound) and %d", maxPerCustomerUnits))
	}
	if p.PerCustomerOrders < 0 || p.PerCustomerOrders > maxPerCustomerOrders {
		problems = append(problems, fmt.Sprintf("per_customer_orders must be between 1 and %d", maxPerCustomerOrders))
	}
	return problems
}

// checkoutProblems checks checkout and checkout_url: a shop sale needs the
// shop's page, and a foyer sale has none, so a URL sent by mistake is not
// silently ignored.
func (p *Plan) checkoutProblems() []string {
	switch p.CheckoutModeOf() {
	case CheckoutFoyer:
		if p.CheckoutURL != "" {
			return []string{"checkout_url is only for a sale whose checkout is shop"}
		}
		return nil
	case CheckoutShop:
		if p.CheckoutURL == "" {
			return []string{"checkout_url is required when checkout is shop"}
		}
		if why := checkoutURLProblem(p.CheckoutURL); why != "" {
			return []string{"checkout_url " + why}
		}
		return nil
	default:
		return []string{"checkout must be foyer or shop"}
	}
}

// checkoutURLProblem says what is wrong with a shop's checkout URL, or ""
// when nothing is. It must be absolute and https, since the reservation
// token rides in its query; plain http is allowed only on this machine, for
// tests and development. A fragment is refused: the query Foyer adds must
// come before it, and a shop has no use for one.
func checkoutURLProblem(s string) string {
	if why := textProblem(s, maxCheckoutURLLen); why != "" {
		return why
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return "must be an absolute URL"
	}
	if strings.Contains(s, "#") {
		return "must not have a fragment"
	}
	if u.User != nil {
		return "must not hold a user or password"
	}
	switch host := u.Hostname(); {
	case u.Scheme == "https":
	case u.Scheme == "http" && (host == "localhost" || host == "127.0.0.1"):
	default:
		return "must be https:// (http:// only for localhost or 127.0.0.1)"
	}
	return ""
}

// scheduleProblems checks starts_at and ends_at; with a zero now, only
// against each other.
func (p *Plan) scheduleProblems(now time.Time) []string {
	var problems []string
	if p.StartsAt.IsZero() || p.EndsAt.IsZero() || !p.EndsAt.After(p.StartsAt) {
		problems = append(problems, "ends_at must be after starts_at")
	} else if p.EndsAt.Sub(p.StartsAt) > maxSaleLength {
		problems = append(problems, fmt.Sprintf("a sale may last at most %d days", int(maxSaleLength.Hours()/24)))
	}
	if now.IsZero() {
		return problems
	}
	if p.StartsAt.Before(now.Add(-maxStartsInPast)) {
		problems = append(problems, fmt.Sprintf("starts_at must be at most %d minutes in the past", int(maxStartsInPast.Minutes())))
	}
	if p.StartsAt.After(now.Add(maxStartsAhead)) {
		problems = append(problems, fmt.Sprintf("starts_at must be at most %d days ahead", int(maxStartsAhead.Hours()/24)))
	}
	if !p.EndsAt.After(now) {
		problems = append(problems, "ends_at must be in the future")
	}
	return problems
}

// validCurrency reports whether code is an ISO 4217 currency code, in
// capitals; XXX ("no currency") is not one a sale can be priced in.
func validCurrency(code string) bool {
	if len(code) != 3 || strings.ToUpper(code) != code {
		return false
	}
	u, err := currency.ParseISO(code)
	return err == nil && u != (currency.Unit{})
}

// appendText adds a problem when a required text field is blank, longer
// than max characters, or not plain text (textProblem).
func appendText(problems []string, field, s string, max int) []string {
	if strings.TrimSpace(s) == "" {
		return append(problems, field+" is required")
	}
	if why := textProblem(s, max); why != "" {
		return append(problems, field+" "+why)
	}
	return problems
}

// textProblem says what is wrong with s as an operator's text, or "" when
// nothing is. Every control character is refused, tab and newline included:
// Postgres refuses NUL in text and jsonb, so a NUL that reached Redis first
// would leave the two apart, and the others have no place in one line a
// shopper reads. Invalid UTF-8 is refused for the same reason as NUL.
func textProblem(s string, max int) string {
	if !utf8.ValidString(s) {
		return "must be valid UTF-8"
	}
	if n := utf8.RuneCountInString(s); n > max {
		return fmt.Sprintf("must have at most %d characters, not %d", max, n)
	}
	if strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return "must not contain control characters (tab and newline included)"
	}
	return ""
}
