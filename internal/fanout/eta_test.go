package fanout

import (
	"testing"
	"time"
)

func TestETAUsesTheConfiguredRateUntilAdmissionsAreMeasured(t *testing.T) {
	var o Outflow
	now := time.Now()
	e := o.Estimate(now, 100, 10, 0)
	if e == nil || e.Min > 10 || e.Max < 10 || e.Max-e.Min < 5 {
		t.Errorf("estimate %+v, want a wide range around 10 s", e)
	}
}

func TestETANarrowsOnceEnoughAdmissionsAreMeasured(t *testing.T) {
	var o Outflow
	start := time.Now()
	for i := range 20 {
		o.record(&o.admitted, start.Add(time.Duration(i)*500*time.Millisecond), 5) // 10 per second
	}
	now := start.Add(10 * time.Second)
	e := o.Estimate(now, 100, 1, 0) // the configured rate is stale: 1/s
	if e == nil || e.Min < 8 || e.Max > 13 {
		t.Errorf("estimate %+v, want about 10 s from the measured 10/s, not 100 s from the configured rate", e)
	}
}

func TestNoShowsAheadShortenTheWait(t *testing.T) {
	var with, without Outflow
	start := time.Now()
	for i := range 20 {
		at := start.Add(time.Duration(i) * 500 * time.Millisecond)
		with.record(&with.admitted, at, 5)
		without.record(&without.admitted, at, 5)
		with.record(&with.gone, at, 5) // as many leave as are admitted
	}
	now := start.Add(10 * time.Second)
	a, b := with.Estimate(now, 100, 10, 0), without.Estimate(now, 100, 10, 0)
	if a.Max >= b.Max {
		t.Errorf("with no-shows %+v, without %+v: no-shows should shorten the wait", a, b)
	}
}

func TestNoETAWhenTheQueueCannotMove(t *testing.T) {
	var o Outflow
	if e := o.Estimate(time.Now(), 10, 0, 0); e != nil {
		t.Errorf("estimate %+v with no Outflow, want none", e)
	}
}

func TestTheCountdownIsAddedToTheWait(t *testing.T) {
	var o Outflow
	e := o.Estimate(time.Now(), 0, 10, time.Minute)
	if e == nil || e.Min < 40 || e.Max < 60 {
		t.Errorf("estimate %+v for the head of the queue a minute before the start", e)
	}
}
