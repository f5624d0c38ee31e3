package gather

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"
)

// recorder is a Send that notes each batch it is given, and fails the
// items named in fail.
type recorder struct {
	mu      sync.Mutex
	batches [][]string
	fail    map[string]bool
}

func (r *recorder) send(_ context.Context, _ string, items []string) []error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.batches = append(r.batches, items)
	errs := make([]error, len(items))
	for i, item := range items {
		if r.fail[item] {
			errs[i] = fmt.Errorf("%s failed", item)
		}
	}
	return errs
}

// doAll runs Do for each item at once and returns each one's error.
func doAll(b *Batches[string, string], items []string, wait time.Duration, most int, send Send[string, string]) map[string]error {
	var mu sync.Mutex
	errs := map[string]error{}
	var wg sync.WaitGroup
	for _, item := range items {
		wg.Go(func() {
			err := b.Do(context.Background(), "k", item, wait, most, send)
			mu.Lock()
			errs[item] = err
			mu.Unlock()
		})
	}
	wg.Wait()
	return errs
}

func TestItemsOfAKeyAreSentTogetherEachWithItsOwnError(t *testing.T) {
	var b Batches[string, string]
	r := &recorder{fail: map[string]bool{"b": true}}
	// most is the number of items: the last to join sends the batch, however
	// slowly the goroutines start.
	errs := doAll(&b, []string{"a", "b", "c"}, time.Hour, 3, r.send)
	if len(r.batches) != 1 || len(r.batches[0]) != 3 {
		t.Fatalf("batches %v, want one of 3", r.batches)
	}
	if errs["a"] != nil || errs["c"] != nil || errs["b"] == nil || errs["b"].Error() != "b failed" {
		t.Errorf("errors %v, want only b's", errs)
	}
}

func TestWithoutAWaitEachItemIsSentAlone(t *testing.T) {
	var b Batches[string, string]
	r := &recorder{}
	doAll(&b, []string{"a", "b", "c"}, 0, 1000, r.send)
	if len(r.batches) != 3 {
		t.Errorf("batches %v, want 3 of one", r.batches)
	}
}

func TestABatchIsSentOnceItsWaitIsOver(t *testing.T) {
	var b Batches[string, string]
	r := &recorder{}
	if err := b.Do(context.Background(), "k", "a", time.Millisecond, 1000, r.send); err != nil {
		t.Fatal(err)
	}
	if len(r.batches) != 1 {
		t.Errorf("batches %v, want one", r.batches)
	}
}

func TestADroppedItemIsNotSentAndItsCallerReturnsNil(t *testing.T) {
	var b Batches[string, string]
	r := &recorder{}
	done := make(chan error, 2)
	go func() { done <- b.Do(context.Background(), "k", "a", time.Hour, 3, r.send) }()
	go func() { done <- b.Do(context.Background(), "k", "b", time.Hour, 3, r.send) }()
	for b.Gathering("k") != 2 {
		runtime.Gosched() // the goroutines joining: nothing tells when they have
	}
	b.Drop("k", func(s string) bool { return s == "a" })
	if n := b.Gathering("k"); n != 1 {
		t.Fatalf("%d gathering after a drop, want 1", n)
	}
	if err := b.Do(context.Background(), "k", "c", time.Hour, 3, r.send); err != nil { // the third fills it
		t.Fatal(err)
	}
	for range 2 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
	if len(r.batches) != 1 || fmt.Sprint(r.batches[0]) != "[b c]" {
		t.Errorf("batches %v, want [[b c]]", r.batches)
	}
}

func TestACallerWhoseContextEndsReturnsItsErrorAndItsItemIsStillSent(t *testing.T) {
	var b Batches[string, string]
	r := &recorder{}
	lead := make(chan error, 1)
	go func() { lead <- b.Do(context.Background(), "k", "a", time.Hour, 3, r.send) }()
	for b.Gathering("k") != 1 {
		runtime.Gosched()
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := b.Do(ctx, "k", "b", time.Hour, 3, r.send); !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	if err := b.Do(context.Background(), "k", "c", time.Hour, 3, r.send); err != nil {
		t.Fatal(err)
	}
	<-lead
	if len(r.batches) != 1 || len(r.batches[0]) != 3 {
		t.Errorf("batches %v, want one of 3 (the cancelled caller's item in it)", r.batches)
	}
}

func TestKeysGatherApart(t *testing.T) {
	var b Batches[string, string]
	r := &recorder{}
	var wg sync.WaitGroup
	for _, key := range []string{"k1", "k2"} {
		for range 2 {
			wg.Go(func() { b.Do(context.Background(), key, key, time.Hour, 2, r.send) })
		}
	}
	wg.Wait()
	if len(r.batches) != 2 {
		t.Errorf("batches %v, want one per key", r.batches)
	}
}
