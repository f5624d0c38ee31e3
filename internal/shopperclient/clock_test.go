package shopperclient

import (
	"testing"
	"time"
)

func TestTheShopperClockKeepsTheOffsetOfTheShortestRoundTrip(t *testing.T) {
	type sample struct{ client, server, received int64 }
	tests := []struct {
		name   string
		rounds [][]sample // one round per connection
		want   time.Duration
	}{
		{"no answer yet", nil, 0},
		{"one answer: the server stamped it halfway", [][]sample{{{1000, 1550, 1100}}}, 500 * time.Millisecond},
		{"the shortest trip wins, not the last", [][]sample{{
			{1000, 1600, 1200}, // trip 200: offset 500
			{2000, 2530, 2040}, // trip 40: offset 510
			{3000, 3700, 3300}, // trip 300: offset 550
		}}, 510 * time.Millisecond},
		{"the server behind us", [][]sample{{{1000, 900, 1020}}}, -110 * time.Millisecond},
		{"a new connection starts a new round", [][]sample{
			{{1000, 1505, 1010}}, // trip 10: offset 500
			{{9000, 9120, 9200}}, // trip 200, but the first of its round: offset 20
		}, 20 * time.Millisecond},
		{"answers that are not ours are ignored", [][]sample{{{1000, 1500, 1000}, {0, 5000, 10}, {2000, 9000, 1990}}}, 500 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c clockSync
			for _, round := range tt.rounds {
				c.begin()
				for _, s := range round {
					c.add(s.client, s.server, s.received)
				}
			}
			if c.offset != tt.want {
				t.Errorf("offset %v, want %v", c.offset, tt.want)
			}
		})
	}
}
