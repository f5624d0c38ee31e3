package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/foyerhq/foyer/internal/app"
	"github.com/foyerhq/foyer/internal/testenv"
)

// A worker whose order consumers stop on their own (here: Redis is gone
// when they subscribe) must return from Run, not wait for a context nobody
// will cancel with its webhook dispatcher still running: a supervisor must
// see it exit and start it again.
func TestAWorkerWhoseConsumersStopReturnsFromRunWithItsWebhooksStopped(t *testing.T) {
	sys := startSystem(t)
	rs := testenv.NewRedis(t)
	cfg := sys.cfg
	cfg.RedisURL = rs.URL()
	wk, err := app.NewWorker(context.Background(), cfg, sys.log)
	if err != nil {
		t.Fatal(err)
	}
	defer wk.Close()
	if err := rs.Kill(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- wk.Run(context.Background()) }() // a context that never ends
	select {
	case err := <-done:
		if err == nil {
			t.Error("Run returned no error though its consumers could not subscribe")
		}
	case <-time.After(time.Minute): // a bound on a hang, not a wait for an event
		t.Fatal("Run never returned after its consumers stopped")
	}
}
