package salehistory

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/redis/go-redis/v9"

	"github.com/foyerhq/foyer/internal/orders"
	"github.com/foyerhq/foyer/waitingroom"
)

// BucketError is the most a wait percentile of the report is off by, as a
// fraction: half a bucket of the histogram (waitingroom.WaitBucket), on
// top of at most one admission tick (a ticket's arrival is the first tick
// that saw it).
var BucketError = math.Exp2(1/(2.0*waitingroom.WaitBucketsPerDoubling)) - 1

// Funnel counts shoppers at each step of the sale.
type Funnel struct {
	Joined     int64 `json:"joined"`
	Admitted   int64 `json:"admitted"`
	CheckedOut int64 `json:"checked_out"` // units sold in Redis
	Orders     int64 `json:"orders"`      // order rows written, whatever their payment
}

// Holds are the holds released without a checkout.
type Holds struct {
	Lapsed int64 `json:"lapsed"` // their time ran out
	Away   int64 `json:"away"`   // their shopper was away past the grace period
}

// WaitStats are the waits of a group of shoppers, in milliseconds, read
// from the histogram (within BucketError; the longest is exact).
type WaitStats struct {
	ArrivedAt *time.Time `json:"arrived_at,omitempty"` // the arrival minute; none for the whole sale
	Shoppers  int64      `json:"shoppers"`
	P50Ms     int64      `json:"p50_ms"`
	P90Ms     int64      `json:"p90_ms"`
	P99Ms     int64      `json:"p99_ms"`
	MaxMs     int64      `json:"max_ms"`
}

// Waits are the sale's waits, whole and by arrival minute.
type Waits struct {
	BucketError float64     `json:"bucket_error"`
	Overall     WaitStats   `json:"overall"`
	ByMinute    []WaitStats `json:"by_minute"`
}

// Flags sum up the shoppers flagged as automated and what the sale did.
type Flags struct {
	Policy   waitingroom.FlagPolicy `json:"policy"`
	Flagged  int                    `json:"flagged"`
	BySignal map[string]int         `json:"by_signal"`
	// PolicyChanges are the operator's settings of the policy, from the
	// audit log, each with what it did to the shoppers flagged by then.
	PolicyChanges []PolicyChange `json:"policy_changes"`
}

// PolicyChange is one setting of the flagged policy.
type PolicyChange struct {
	At      time.Time       `json:"at" db:"at"`
	Actor   string          `json:"actor" db:"actor"`
	Applied json.RawMessage `json:"applied" db:"detail"` // waitingroom.PolicyApplied
}

// Draw is the prequeue's draw and its check: the seed must hash to the
// commitment published when the prequeue opened.
type Draw struct {
	SeedHash        string `json:"seed_hash,omitempty"`
	Seed            string `json:"seed,omitempty"`
	SeedMatchesHash bool   `json:"seed_matches_hash"`
	PrequeueTickets int    `json:"prequeue_tickets"`
	CheckURL        string `json:"check_url"` // where anyone reads the drawn order (GET /v1/sales/:sale/draw)
}

// Fairness is whether the public fairness report is out.
type Fairness struct {
	Published   bool       `json:"published"`
	PublishedAt *time.Time `json:"published_at,omitempty"`
}

// Report is a sale's post-sale report for its operators.
type Report struct {
	SaleID      string                `json:"sale_id"`
	Name        string                `json:"name"`
	State       waitingroom.State     `json:"state"`
	StartsAt    time.Time             `json:"starts_at"`
	EndsAt      time.Time             `json:"ends_at"`
	GeneratedAt time.Time             `json:"generated_at"`
	Stock       int                   `json:"stock"`
	Funnel      Funnel                `json:"funnel"`
	Payments    orders.PaymentSummary `json:"payments"`
	// Products are an event's products, each with its stock, sold, left
	// and revenue (its paid orders), from Postgres; absent for a
	// single-product sale.
	Products []orders.ProductFigures `json:"products,omitempty"`
	Holds    Holds                   `json:"holds"`
	Waits    Waits                   `json:"waits"`
	Flags    Flags                   `json:"flags"`
	Draw     Draw                    `json:"draw"`
	Fairness Fairness                `json:"fairness"`
	// Live says the counts were read from Redis (the sale is still
	// there); false, from the last copy kept in Postgres.
	Live bool `json:"live"`
}

// Reports builds the reports of sales.
type Reports struct {
	store   *Store
	rooms   *waitingroom.Rooms
	catalog *waitingroom.Catalog
	orders  *orders.Reader
}

// NewReports returns the reports of the sales in rdb and db.
func NewReports(rdb redis.UniversalClient, db *sqlx.DB) *Reports {
	return &Reports{store: NewStore(db), rooms: waitingroom.NewRooms(rdb), catalog: waitingroom.NewCatalog(db), orders: orders.NewReader(db)}
}

// SeriesOf reads a sale's series (Store.SeriesOf).
func (r *Reports) SeriesOf(ctx context.Context, saleID string, from, to int64) (Series, error) {
	return r.store.SeriesOf(ctx, saleID, from, to)
}

// PublishFairness publishes or withdraws the sale's fairness report
// (Store.PublishFairness).
func (r *Reports) PublishFairness(ctx context.Context, saleID string, publish bool, actor string) (*time.Time, error) {
	return r.store.PublishFairness(ctx, saleID, publish, actor)
}

// Report builds the sale's post-sale report (at any time: during the sale
// it is the report so far). An unknown sale is waitingroom.ErrSaleNotFound.
func (r *Reports) Report(ctx context.Context, saleID string) (Report, error) {
	plan, err := r.catalog.Get(ctx, saleID)
	if err != nil {
		return Report{}, err
	}
	row, err := r.store.row(ctx, saleID)
	if err != nil {
		return Report{}, err
	}
	k, live, err := current(ctx, r.rooms, saleID, row)
	if err != nil {
		return Report{}, err
	}
	rep := Report{SaleID: saleID, Name: plan.Name, StartsAt: plan.StartsAt, EndsAt: plan.EndsAt,
		GeneratedAt: time.Now().UTC(), Stock: plan.Stock, Live: live,
		Holds: Holds{Lapsed: k.History.HoldsLapsed, Away: k.History.HoldsAway},
		Waits: waitsOf(k.History.Waits), Flags: k.Flags, Draw: k.Draw,
		Fairness: Fairness{Published: row.PublishedAt.Valid}}
	if row.PublishedAt.Valid {
		rep.Fairness.PublishedAt = &row.PublishedAt.Time
	}
	if rep.Flags.BySignal == nil {
		rep.Flags.BySignal = map[string]int{}
	}
	if rep.Funnel, rep.State, err = r.funnel(ctx, plan, k.State); err != nil {
		return Report{}, err
	}
	if rep.Payments, err = r.orders.PaymentSummary(ctx, saleID); err != nil {
		return Report{}, err
	}
	rep.Funnel.Orders = rep.Payments.Paid.Count + rep.Payments.Failed.Count + rep.Payments.Pending.Count
	if plan.IsEvent() {
		if rep.Products, err = r.orders.ProductFigures(ctx, saleID); err != nil {
			return Report{}, err
		}
	}
	if rep.Flags.PolicyChanges, err = r.policyChanges(ctx, saleID); err != nil {
		return Report{}, err
	}
	return rep, nil
}

// funnel reads the sale's counters from Redis, or from its last point
// once Redis no longer has it (with the state last copied, kept).
func (r *Reports) funnel(ctx context.Context, plan *waitingroom.Plan, kept waitingroom.State) (Funnel, waitingroom.State, error) {
	counters, err := r.rooms.CountersOf(ctx, []string{plan.ID})
	if err != nil {
		return Funnel{}, "", err
	}
	if c, ok := counters[plan.ID]; ok {
		return Funnel{Joined: c.Joined, Admitted: c.Admitted, CheckedOut: c.Sold}, c.State, nil
	}
	state := kept
	if state != waitingroom.StateSoldOut && time.Now().After(plan.EndsAt) {
		state = waitingroom.StateEnded // whatever it was when last copied
	}
	p, ok, err := r.store.lastPoint(ctx, plan.ID)
	if err != nil || !ok {
		return Funnel{}, state, err
	}
	return Funnel{Joined: p.Joins, Admitted: p.Admitted, CheckedOut: p.Checkouts}, state, nil
}

// policyChanges reads the flagged policy's settings from the audit log,
// oldest first.
func (r *Reports) policyChanges(ctx context.Context, saleID string) ([]PolicyChange, error) {
	changes := []PolicyChange{}
	if err := r.store.db.SelectContext(ctx, &changes, `SELECT at, actor, detail FROM admin_actions
		WHERE sale_id = $1 AND action = 'flagged_policy' ORDER BY at, id`, saleID); err != nil {
		return nil, fmt.Errorf("read the flagged policy's changes of sale %s: %w", saleID, err)
	}
	return changes, nil
}

// waitsOf reads the histogram's percentiles, whole and by arrival minute.
func waitsOf(minutes []waitingroom.MinuteWaits) Waits {
	w := Waits{BucketError: BucketError, ByMinute: []WaitStats{}, Overall: statsOf(waitingroom.MergeWaits(minutes))}
	for _, m := range minutes {
		s := statsOf(m)
		at := time.Unix(m.Minute*60, 0).UTC()
		s.ArrivedAt = &at
		w.ByMinute = append(w.ByMinute, s)
	}
	return w
}

func statsOf(m waitingroom.MinuteWaits) WaitStats {
	p := func(q float64) int64 { return int64(math.Round(m.Percentile(q))) }
	return WaitStats{Shoppers: m.Shoppers(), P50Ms: p(0.5), P90Ms: p(0.9), P99Ms: p(0.99), MaxMs: m.MaxMs}
}

// flagsOf sums up a sale's flags by signal.
func flagsOf(f waitingroom.FlagReport) Flags {
	out := Flags{Policy: f.Policy, Flagged: f.Flagged, BySignal: map[string]int{}, PolicyChanges: []PolicyChange{}}
	for _, s := range f.Shoppers {
		for _, signal := range s.Signals {
			out.BySignal[signal]++
		}
	}
	return out
}

// drawOf checks a sale's draw: its seed against the commitment.
func drawOf(saleID string, d waitingroom.Draw) Draw {
	sum := sha256.Sum256([]byte(d.Seed))
	return Draw{SeedHash: d.SeedHash, Seed: d.Seed, PrequeueTickets: len(d.Tickets),
		SeedMatchesHash: d.Seed != "" && hex.EncodeToString(sum[:]) == d.SeedHash,
		CheckURL:        "/v1/sales/" + saleID + "/draw"}
}

// FairnessReport is what the public may read of a sale once its operator
// published it: counts, waits and the draw, and nothing of any shopper.
type FairnessReport struct {
	SaleID      string            `json:"sale_id"`
	Name        string            `json:"name"`
	State       waitingroom.State `json:"state"`
	StartsAt    time.Time         `json:"starts_at"`
	EndsAt      time.Time         `json:"ends_at"`
	PublishedAt time.Time         `json:"published_at"`
	GeneratedAt time.Time         `json:"generated_at"`
	Stock       int               `json:"stock"`
	Joined      int64             `json:"joined"`
	Admitted    int64             `json:"admitted"`
	Sold        int64             `json:"sold"` // orders paid
	// Products are an event's products' units: stock, sold and left, as
	// the operator's report has them, without their revenue.
	Products []PublicProduct `json:"products,omitempty"`
	Waits    Waits           `json:"waits"`
	Draw     Draw            `json:"draw"`
	// Flagged is how many shoppers were flagged as automated: counted,
	// never named.
	Flagged int `json:"flagged"`
}

// Fairness builds the sale's public fairness report, or ErrUnpublished.
func (r *Reports) Fairness(ctx context.Context, saleID string) (FairnessReport, error) {
	row, err := r.store.row(ctx, saleID)
	if err != nil {
		return FairnessReport{}, err
	}
	if !row.PublishedAt.Valid {
		return FairnessReport{}, ErrUnpublished
	}
	rep, err := r.Report(ctx, saleID)
	if errors.Is(err, waitingroom.ErrSaleNotFound) {
		return FairnessReport{}, ErrUnpublished
	}
	if err != nil {
		return FairnessReport{}, err
	}
	return FairnessReport{SaleID: rep.SaleID, Name: rep.Name, State: rep.State, StartsAt: rep.StartsAt, EndsAt: rep.EndsAt,
		PublishedAt: row.PublishedAt.Time, GeneratedAt: rep.GeneratedAt, Stock: rep.Stock,
		Joined: rep.Funnel.Joined, Admitted: rep.Funnel.Admitted, Sold: rep.Payments.Paid.Count,
		Waits: rep.Waits, Draw: rep.Draw, Flagged: rep.Flags.Flagged, Products: publicProducts(rep.Products)}, nil
}

// PublicProduct is one product of an event in the public fairness report:
// how many units there were and went, nothing of who bought them nor of
// the money.
type PublicProduct struct {
	SKU   string `json:"sku"`
	Name  string `json:"name"`
	Stock int64  `json:"stock"`
	Sold  int64  `json:"sold"`
	Left  int64  `json:"left"`
}

func publicProducts(in []orders.ProductFigures) []PublicProduct {
	if len(in) == 0 {
		return nil
	}
	out := make([]PublicProduct, len(in))
	for i, p := range in {
		out[i] = PublicProduct{SKU: p.SKU, Name: p.Name, Stock: p.Stock, Sold: p.Sold, Left: p.Left}
	}
	return out
}
