package server

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/foyerhq/foyer/waitingroom"
)

func TestListStatesAreOneCommaSeparatedListOfKnownStatesEachOnce(t *testing.T) {
	for _, tc := range []struct {
		values []string
		set    int
		ok     bool
	}{
		{nil, 0b111, true},
		{[]string{"upcoming"}, 0b001, true},
		{[]string{"live"}, 0b010, true},
		{[]string{"ended,upcoming"}, 0b101, true},
		{[]string{"upcoming,live,ended"}, 0b111, true},
		{[]string{""}, 0, false},
		{[]string{"soon"}, 0, false},
		{[]string{"Live"}, 0, false},
		{[]string{"live,live"}, 0, false},
		{[]string{"live,"}, 0, false},
		{[]string{"live", "ended"}, 0, false},
	} {
		set, err := parseListStates(tc.values)
		if tc.ok != (err == nil) || set != tc.set {
			t.Errorf("%q: %03b, %v; want %03b, ok %v", tc.values, set, err, tc.set, tc.ok)
		}
		if err != nil && !errors.Is(err, errBadRequest) {
			t.Errorf("%q: %v is not a bad request", tc.values, err)
		}
	}
}

func TestASaleIsListedByItsPhaseAndEndedOncePastItsEnd(t *testing.T) {
	now := time.Now()
	plan := func(id string, endsIn time.Duration) *waitingroom.Plan {
		return &waitingroom.Plan{ID: id, Name: id, StartsAt: now.Add(endsIn - time.Hour), EndsAt: now.Add(endsIn)}
	}
	live := map[string]waitingroom.Status{
		"scheduled": {State: waitingroom.StateScheduled, Available: 5},
		"prequeue":  {State: waitingroom.StatePrequeue, Available: 5},
		"open":      {State: waitingroom.StateOpen, Available: 3},
		"paused":    {State: waitingroom.StatePaused, Available: 3},
		"sold_out":  {State: waitingroom.StateSoldOut},
		"stopped":   {State: waitingroom.StateEnded, Available: 2},
		"late":      {State: waitingroom.StateOpen, Available: 1}, // past its end, before the admitter's tick
	}
	for _, tc := range []struct {
		id     string
		endsIn time.Duration
		want   string // state/phase; "" for not listed
	}{
		{"scheduled", 2 * time.Hour, "upcoming/scheduled"},
		{"prequeue", 2 * time.Hour, "upcoming/prequeue"},
		{"open", time.Hour, "live/open"},
		{"paused", time.Hour, "live/paused"},
		{"sold_out", time.Hour, "ended/sold_out"},
		{"stopped", time.Hour, "ended/ended"},
		{"late", -time.Second, "ended/ended"},
		{"forgotten", -time.Hour, "ended/ended"}, // Redis no longer holds it
		{"unloaded", time.Hour, ""},              // not past its end, and no shopper could join it
	} {
		sale, ok := listed(plan(tc.id, tc.endsIn), live, now)
		got := ""
		if ok {
			got = sale.State + "/" + string(sale.Phase)
		}
		if got != tc.want {
			t.Errorf("%s is listed %q, want %q", tc.id, got, tc.want)
		}
		if ok && (sale.StockLeft == nil) != (tc.id == "forgotten") {
			t.Errorf("%s: stock left %v", tc.id, sale.StockLeft)
		}
	}
}

func TestRequestsThatFindTheListingStaleShareOneRead(t *testing.T) {
	const requests = 50
	var reads atomic.Int32
	started, release := make(chan struct{}, requests), make(chan struct{})
	l := &saleListing{reads: prometheus.NewCounter(prometheus.CounterOpts{Name: "reads"}),
		read: func(ctx context.Context) (*listingSnapshot, error) {
			reads.Add(1)
			started <- struct{}{}
			<-release
			return &listingSnapshot{}, nil
		}}
	var wg sync.WaitGroup
	for range requests {
		wg.Go(func() {
			if _, err := l.get(t.Context()); err != nil {
				t.Error(err)
			}
		})
	}
	<-started
	close(release)
	wg.Wait()
	if n := reads.Load(); n != 1 {
		t.Errorf("%d requests made %d reads, want 1", requests, n)
	}
	// A request that goes away stops waiting, and fails no other.
	l.snap = nil
	release2 := make(chan struct{})
	l.read = func(ctx context.Context) (*listingSnapshot, error) { <-release2; return &listingSnapshot{}, nil }
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := l.get(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("a request gone away: %v", err)
	}
	close(release2)
	if _, err := l.get(t.Context()); err != nil {
		t.Errorf("a request after it: %v", err)
	}
}
