package waitingroom

import (
	"fmt"
	"strings"
	"time"
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
	ID                    string    `db:"id" json:"id"`
	SKU                   string    `db:"sku" json:"sku"`
	Name                  string    `db:"name" json:"name"`
	PriceCents            int64     `db:"price_cents" json:"price_cents"`
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
	// PowDifficulty is the proof of work a shopper does before joining, in
	// leading zero bits (docs/pow.md); 0, the default, is off.
	PowDifficulty int `db:"pow_difficulty" json:"pow_difficulty"`
}

// PrequeueAt is when shoppers may start to join.
func (p *Plan) PrequeueAt() time.Time {
	return p.StartsAt.Add(-time.Duration(p.PrequeueSeconds) * time.Second)
}

// ReservationTTL is how long an admitted shopper has to check out.
func (p *Plan) ReservationTTL() time.Duration {
	return time.Duration(p.ReservationTTLSeconds) * time.Second
}

// Limits on a plan, so that a typo cannot create a sale nobody can run.
const (
	maxStock          = 10_000_000
	maxOutflow        = 100_000
	minReservationTTL = 10 * time.Second
	maxReservationTTL = 24 * time.Hour
	maxPrequeue       = 7 * 24 * time.Hour
	maxPerShopper     = 10
	// MaxPowDifficulty bounds a sale's proof of work: 2^24 hashes is minutes
	// in a desktop browser, so anything above is a typo. It is below
	// pow.MaxDifficulty, and the same as the CHECK in migrations/00005_pow.sql.
	MaxPowDifficulty = 24
)

// Validate reports every problem with the plan at once, wrapped in ErrInvalidSale.
func (p *Plan) Validate() error {
	var problems []string
	if strings.TrimSpace(p.SKU) == "" {
		problems = append(problems, "sku is required")
	}
	if strings.TrimSpace(p.Name) == "" {
		problems = append(problems, "name is required")
	}
	if p.PriceCents < 0 {
		problems = append(problems, "price_cents must not be negative")
	}
	if len(p.Currency) != 3 {
		problems = append(problems, "currency must be a three-letter code")
	}
	if p.Stock < 1 || p.Stock > maxStock {
		problems = append(problems, fmt.Sprintf("stock must be between 1 and %d", maxStock))
	}
	if p.StartsAt.IsZero() || p.EndsAt.IsZero() || !p.EndsAt.After(p.StartsAt) {
		problems = append(problems, "ends_at must be after starts_at")
	}
	if p.OutflowPerSecond <= 0 || p.OutflowPerSecond > maxOutflow {
		problems = append(problems, fmt.Sprintf("outflow_per_second must be above 0 and at most %d", maxOutflow))
	}
	if p.ReservationTTL() < minReservationTTL || p.ReservationTTL() > maxReservationTTL {
		problems = append(problems, fmt.Sprintf("reservation_ttl_seconds must be between %d and %d",
			int(minReservationTTL.Seconds()), int(maxReservationTTL.Seconds())))
	}
	if p.PrequeueSeconds < 0 || time.Duration(p.PrequeueSeconds)*time.Second > maxPrequeue {
		problems = append(problems, fmt.Sprintf("prequeue_seconds must be between 0 and %d", int(maxPrequeue.Seconds())))
	}
	if p.PerShopperLimit < 1 || p.PerShopperLimit > maxPerShopper {
		problems = append(problems, fmt.Sprintf("per_shopper_limit must be between 1 and %d", maxPerShopper))
	}
	if p.PowDifficulty < 0 || p.PowDifficulty > MaxPowDifficulty {
		problems = append(problems, fmt.Sprintf("pow_difficulty must be between 0 and %d", MaxPowDifficulty))
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: %s", ErrInvalidSale, strings.Join(problems, "; "))
	}
	return nil
}
