package app_test

import (
	"strings"
	"testing"

	"github.com/foyerhq/foyer/internal/app"
)

// FOYER_STREAM_PARTITIONS is read with its default, and refused outside
// 1 to 64, naming the variable and the bounds: 0 would send every order to
// no partition, and hundreds would hold as many blocking reads per worker.
func TestStreamPartitionsAreReadWithinTheirBoundsAndRefusedOutsideNamingTheVariable(t *testing.T) {
	cfg, err := app.LoadConfig(map[string]string{})
	if err != nil || cfg.StreamPartitions != 8 {
		t.Fatalf("default partitions %d (%v), want 8", cfg.StreamPartitions, err)
	}
	for v, want := range map[string]int{"1": 1, "16": 16, "64": 64} {
		if cfg, err := app.LoadConfig(map[string]string{"FOYER_STREAM_PARTITIONS": v}); err != nil || cfg.StreamPartitions != want {
			t.Errorf("partitions %s read as %d (%v)", v, cfg.StreamPartitions, err)
		}
	}
	for _, v := range []string{"0", "-1", "65", "1000"} {
		if _, err := app.LoadConfig(map[string]string{"FOYER_STREAM_PARTITIONS": v}); err == nil ||
			!strings.Contains(err.Error(), "FOYER_STREAM_PARTITIONS") || !strings.Contains(err.Error(), "from 1 to 64") {
			t.Errorf("partitions %s: %v, want it refused naming FOYER_STREAM_PARTITIONS and its bounds", v, err)
		}
	}
}
