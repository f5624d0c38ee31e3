package waitingroom

import (
	"encoding/json"
	"testing"
	"time"
)

func TestAnEditChangesOnlyTheFieldsItNamesAndTheAuditSaysWhatChanged(t *testing.T) {
	before := validPlan()
	before.PerShopperLimit = 1
	name, stock := "Renamed", 42
	start := time.Date(2030, 1, 2, 3, 4, 5, 6789, time.FixedZone("CET", 3600))
	after, err := PlanChange{Name: &name, Stock: &stock, StartsAt: &start}.applyTo(before)
	if err != nil {
		t.Fatal(err)
	}
	if after.Name != name || after.Stock != stock || after.SKU != before.SKU || after.PriceCents != before.PriceCents ||
		after.PerShopperLimit != 1 || after.EndsAt != before.EndsAt.UTC().Truncate(time.Microsecond) {
		t.Errorf("the edit made %+v of %+v", after, before)
	}
	if want := start.UTC().Truncate(time.Microsecond); !after.StartsAt.Equal(want) || after.StartsAt.Location() != time.UTC {
		t.Errorf("starts_at %v, want %v in UTC to the microsecond, as Postgres keeps it", after.StartsAt, want)
	}
	var diff struct{ Before, After map[string]any }
	if err := json.Unmarshal(planDiff(before, after), &diff); err != nil {
		t.Fatal(err)
	}
	if len(diff.After) != 3 || diff.After["name"] != name || diff.Before["name"] != before.Name || diff.After["stock"] != 42.0 {
		t.Errorf("the audit detail is %+v, want name, stock and starts_at only", diff)
	}
	if !(PlanChange{}).empty() || (PlanChange{Name: &name}).empty() {
		t.Error("empty() is wrong")
	}
}
