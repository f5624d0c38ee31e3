package app

import (
	"strings"
	"testing"
)

// The history sampler's flush and the series' retention have bounds: a
// flush of 0 would spin the sampler, and one of an hour would lose an hour
// of a sale's history with its gateway.
func TestSeriesSettingsOutOfTheirBoundsStopTheNode(t *testing.T) {
	for _, c := range []struct{ name, value, says string }{
		{"FOYER_SERIES_FLUSH", "0", "FOYER_SERIES_FLUSH must be from 100ms to 1m0s"},
		{"FOYER_SERIES_FLUSH", "-5s", "FOYER_SERIES_FLUSH must be from 100ms to 1m0s"},
		{"FOYER_SERIES_FLUSH", "2m", "FOYER_SERIES_FLUSH must be from 100ms to 1m0s"},
		{"FOYER_SERIES_RETENTION", "-1h", "FOYER_SERIES_RETENTION must be 0 (for ever) or from 24h0m0s"},
		{"FOYER_SERIES_RETENTION", "1h", "FOYER_SERIES_RETENTION must be 0 (for ever) or from 24h0m0s"},
	} {
		_, err := LoadConfig(map[string]string{c.name: c.value})
		if err == nil || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%s=%s: %v, want an error saying %q", c.name, c.value, err, c.says)
		}
	}
	for _, ok := range []map[string]string{{"FOYER_SERIES_FLUSH": "100ms"}, {"FOYER_SERIES_FLUSH": "1m"},
		{"FOYER_SERIES_RETENTION": "0"}, {"FOYER_SERIES_RETENTION": "24h"}} {
		if _, err := LoadConfig(ok); err != nil {
			t.Errorf("%v: %v", ok, err)
		}
	}
}
