package waitingroom

import (
	"context"
	"errors"
	"testing"

	"github.com/foyerhq/foyer/internal/defence/pow"
)

func TestThePowCeilingIsOneTheGuardIssues(t *testing.T) {
	if MaxPowDifficulty > pow.MaxDifficulty {
		t.Errorf("MaxPowDifficulty %d is above pow.MaxDifficulty %d: Issue would refuse such a sale", MaxPowDifficulty, pow.MaxDifficulty)
	}
}

func TestAPowChangeTakesAWholeDifficultyUpToTheCeiling(t *testing.T) {
	for _, tc := range []struct {
		value float64
		ok    bool
	}{{0, true}, {8, true}, {MaxPowDifficulty, true}, {-1, false}, {MaxPowDifficulty + 1, false}, {7.5, false}} {
		err := Control{Action: ActionPow, Value: tc.value}.validate()
		if tc.ok != (err == nil) || (err != nil && !errors.Is(err, ErrInvalidSale)) {
			t.Errorf("pow %v: %v, want ok=%v (else ErrInvalidSale)", tc.value, err, tc.ok)
		}
	}
}

func TestThePowDifficultyIsLoadedWithThePlanAndReadWithStatusAndView(t *testing.T) {
	rdb, rooms, _ := openSale(t, 1)
	ctx := context.Background()
	p := validPlan()
	p.ID, p.PowDifficulty = "s_pow", 12
	if err := rooms.Load(ctx, &p); err != nil {
		t.Fatal(err)
	}
	st, err := rooms.Status(ctx, p.ID)
	if err != nil || st.PowDifficulty != 12 {
		t.Errorf("status: difficulty %d (%v), want 12", st.PowDifficulty, err)
	}
	v, err := rooms.View(ctx, p.ID)
	if err != nil || v.PowDifficulty != 12 {
		t.Errorf("view: difficulty %d (%v), want 12", v.PowDifficulty, err)
	}
	// A sale loaded before the proof of work existed has no field: off.
	if err := rdb.HDel(ctx, Keys(p.ID).Meta, "pow_difficulty").Err(); err != nil {
		t.Fatal(err)
	}
	if v, err := rooms.View(ctx, p.ID); err != nil || v.PowDifficulty != 0 {
		t.Errorf("view without the field: difficulty %d (%v), want 0", v.PowDifficulty, err)
	}
}
