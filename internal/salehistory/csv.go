package salehistory

import (
	"encoding/csv"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/foyerhq/foyer/internal/csvcell"
)

// WriteCSV writes the report as rows of section, key and value: one table
// a spreadsheet reads whatever the report holds. The waits by arrival
// minute are keyed "<minute> <measure>". Text from outside (the sale's
// name) is defused (internal/csvcell).
func WriteCSV(w io.Writer, r Report) error {
	out := csv.NewWriter(w)
	rows := [][]string{{"section", "key", "value"},
		{"sale", "id", r.SaleID}, {"sale", "name", csvcell.Defuse(r.Name)}, {"sale", "state", string(r.State)},
		{"sale", "starts_at", r.StartsAt.UTC().Format(time.RFC3339)}, {"sale", "ends_at", r.EndsAt.UTC().Format(time.RFC3339)},
		{"sale", "stock", strconv.Itoa(r.Stock)}, {"sale", "generated_at", r.GeneratedAt.Format(time.RFC3339)},
	}
	num := func(section, key string, v int64) {
		rows = append(rows, []string{section, key, strconv.FormatInt(v, 10)})
	}
	num("funnel", "joined", r.Funnel.Joined)
	num("funnel", "admitted", r.Funnel.Admitted)
	num("funnel", "checked_out", r.Funnel.CheckedOut)
	num("funnel", "orders", r.Funnel.Orders)
	rows = append(rows, []string{"payments", "currency", r.Payments.Currency})
	for _, t := range []struct {
		name  string
		count int64
		cents int64
	}{{"paid", r.Payments.Paid.Count, r.Payments.Paid.AmountCents}, {"failed", r.Payments.Failed.Count, r.Payments.Failed.AmountCents},
		{"pending", r.Payments.Pending.Count, r.Payments.Pending.AmountCents}, {"refunded", r.Payments.Refunded.Count, r.Payments.Refunded.AmountCents}} {
		num("payments", t.name+"_count", t.count)
		num("payments", t.name+"_amount_cents", t.cents)
	}
	// An event's products are keyed "<sku> <figure>", the SKU defused:
	// an operator typed it.
	for _, p := range r.Products {
		sku := csvcell.Defuse(p.SKU)
		rows = append(rows, []string{"products", sku + " name", csvcell.Defuse(p.Name)})
		num("products", sku+" stock", p.Stock)
		num("products", sku+" sold", p.Sold)
		num("products", sku+" left", p.Left)
		num("products", sku+" revenue_cents", p.RevenueCents)
	}
	num("holds", "lapsed", r.Holds.Lapsed)
	num("holds", "away", r.Holds.Away)
	waits := func(key string, s WaitStats) {
		num("waits", key+" shoppers", s.Shoppers)
		num("waits", key+" p50_ms", s.P50Ms)
		num("waits", key+" p90_ms", s.P90Ms)
		num("waits", key+" p99_ms", s.P99Ms)
		num("waits", key+" max_ms", s.MaxMs)
	}
	rows = append(rows, []string{"waits", "bucket_error", strconv.FormatFloat(r.Waits.BucketError, 'f', 4, 64)})
	waits("all", r.Waits.Overall)
	for _, m := range r.Waits.ByMinute {
		waits(m.ArrivedAt.Format(time.RFC3339), m)
	}
	rows = append(rows, []string{"flags", "policy", string(r.Flags.Policy)})
	num("flags", "flagged", int64(r.Flags.Flagged))
	for _, signal := range slices.Sorted(maps.Keys(r.Flags.BySignal)) {
		num("flags", "signal "+signal, int64(r.Flags.BySignal[signal]))
	}
	for _, c := range r.Flags.PolicyChanges {
		rows = append(rows, []string{"flags", "policy_set " + c.At.UTC().Format(time.RFC3339), csvcell.Defuse(string(c.Applied))})
	}
	rows = append(rows, []string{"draw", "seed_hash", r.Draw.SeedHash}, []string{"draw", "seed", r.Draw.Seed},
		[]string{"draw", "seed_matches_hash", strconv.FormatBool(r.Draw.SeedMatchesHash)},
		[]string{"draw", "prequeue_tickets", strconv.Itoa(r.Draw.PrequeueTickets)},
		[]string{"fairness", "published", strconv.FormatBool(r.Fairness.Published)})
	if err := out.WriteAll(rows); err != nil {
		return fmt.Errorf("write the report of sale %s as CSV: %w", r.SaleID, err)
	}
	return nil
}
