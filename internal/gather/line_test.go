package gather

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

// heldSend is a SendAll that notes each batch, answers each item with its
// upper-cased self (and an error for the items named in fail), and holds
// its first batch until let go: the test fills the line meanwhile.
type heldSend struct {
	mu      sync.Mutex
	batches [][]string
	fail    map[string]bool
	once    sync.Once
	holding chan struct{}
	letGo   chan struct{}
}

func newHeldSend() *heldSend {
	return &heldSend{holding: make(chan struct{}), letGo: make(chan struct{})}
}

func (h *heldSend) send(ctx context.Context, _ string, items []string) ([]string, []error) {
	if ctx.Err() != nil {
		panic("a batch was sent with a cancelled context")
	}
	h.once.Do(func() {
		close(h.holding)
		<-h.letGo
	})
	h.mu.Lock()
	defer h.mu.Unlock()
	h.batches = append(h.batches, items)
	got, errs := make([]string, len(items)), make([]error, len(items))
	for i, item := range items {
		got[i] = "sent " + item
		if h.fail[item] {
			errs[i] = fmt.Errorf("%s failed", item)
		}
	}
	return got, errs
}

// answer is one caller's.
type answer struct {
	got string
	err error
}

// lineUp sends first, waits until it is on its way, then asks each of
// rest (with its ctx from ctxs, if there) and waits until all of them
// wait in the line; then lets the first go and returns every answer.
func lineUp(t *testing.T, l *Line[string, string, string], h *heldSend, first string, rest []string, ctxs map[string]context.Context) map[string]answer {
	t.Helper()
	var mu sync.Mutex
	answers := map[string]answer{}
	var wg sync.WaitGroup
	ask := func(item string) {
		ctx := ctxs[item]
		if ctx == nil {
			ctx = context.Background()
		}
		wg.Go(func() {
			got, err := l.Do(ctx, "k", item, h.send)
			mu.Lock()
			answers[item] = answer{got, err}
			mu.Unlock()
		})
	}
	ask(first)
	<-h.holding
	for _, item := range rest {
		ask(item)
	}
	for deadline := time.Now().Add(10 * time.Second); l.Waiting("k") != len(rest); {
		if time.Now().After(deadline) {
			t.Fatalf("%d waiting in the line, want %d", l.Waiting("k"), len(rest))
		}
		time.Sleep(time.Millisecond)
	}
	close(h.letGo)
	wg.Wait()
	return answers
}

func TestALoneItemIsSentAtOnceAndAlone(t *testing.T) {
	var l Line[string, string, string]
	h := newHeldSend()
	close(h.letGo)
	for _, item := range []string{"a", "b"} {
		got, err := l.Do(context.Background(), "k", item, h.send)
		if err != nil || got != "sent "+item {
			t.Fatalf("%s: %q (%v)", item, got, err)
		}
	}
	if len(h.batches) != 2 || l.Waiting("k") != 0 {
		t.Errorf("batches %v, want two of one, and the line closed", h.batches)
	}
}

func TestItemsAskedWhileABatchIsOnItsWayGoTogetherEachWithItsOwnAnswer(t *testing.T) {
	var l Line[string, string, string]
	h := newHeldSend()
	h.fail = map[string]bool{"c": true}
	answers := lineUp(t, &l, h, "a", []string{"b", "c", "d"}, nil)
	if len(h.batches) != 2 || !slices.Equal(h.batches[0], []string{"a"}) || len(h.batches[1]) != 3 {
		t.Fatalf("batches %v, want [a] then the 3 behind it", h.batches)
	}
	for _, item := range []string{"a", "b", "c", "d"} {
		a := answers[item]
		if a.got != "sent "+item || (a.err != nil) != (item == "c") {
			t.Errorf("%s answered %q (%v), want its own answer, and only c's error", item, a.got, a.err)
		}
	}
	if l.Waiting("k") != 0 {
		t.Error("the line is still open")
	}
}

func TestAnItemWhoseCallerGaveUpInTheLineIsNotSent(t *testing.T) {
	var l Line[string, string, string]
	h := newHeldSend()
	gaveUp, cancel := context.WithCancel(context.Background())
	cancel()
	// b, the first behind a, is handed the line: though it gave up, it
	// sends c and d, but not itself.
	answers := lineUp(t, &l, h, "a", []string{"b", "c", "d"}, map[string]context.Context{"b": gaveUp, "d": gaveUp})
	if len(h.batches) != 2 || !slices.Equal(h.batches[1], []string{"c"}) {
		t.Fatalf("batches %v, want [a] then [c]", h.batches)
	}
	for _, item := range []string{"b", "d"} {
		if a := answers[item]; !errors.Is(a.err, context.Canceled) || a.got != "" {
			t.Errorf("%s, given up: %q (%v), want its context's end", item, a.got, a.err)
		}
	}
	if a := answers["c"]; a.err != nil || a.got != "sent c" {
		t.Errorf("c: %q (%v)", a.got, a.err)
	}
}

func TestMostBoundsABatchAndTheRestGoNext(t *testing.T) {
	l := Line[string, string, string]{Most: 2}
	h := newHeldSend()
	answers := lineUp(t, &l, h, "a", []string{"b", "c", "d", "e", "f"}, nil)
	var sizes []int
	for _, b := range h.batches {
		sizes = append(sizes, len(b))
	}
	if !slices.Equal(sizes, []int{1, 2, 2, 1}) {
		t.Errorf("batches %v, want of 1, 2, 2, 1", h.batches)
	}
	if len(answers) != 6 {
		t.Errorf("%d answered of 6", len(answers))
	}
}

func TestKeysHaveLinesOfTheirOwn(t *testing.T) {
	var l Line[string, string, string]
	h := newHeldSend()
	go func() { _, _ = l.Do(context.Background(), "k", "a", h.send) }()
	<-h.holding
	// k's batch is held: another key's item is not behind it.
	other := func(ctx context.Context, _ string, items []string) ([]string, []error) {
		return []string{"sent " + items[0]}, []error{nil}
	}
	if got, err := l.Do(context.Background(), "j", "x", other); err != nil || got != "sent x" {
		t.Errorf("j's item: %q (%v)", got, err)
	}
	close(h.letGo)
}

// TestASendThatPanicsAnswersItsBatchAndFreesTheLine: a batch whose send
// panics answers each of its other callers with ErrSendFailed, the panic
// goes on in the goroutine that sent it, and later calls are sent: a panic
// never leaves a key's line stuck.
func TestASendThatPanicsAnswersItsBatchAndFreesTheLine(t *testing.T) {
	var l Line[string, string, string]
	h := newHeldSend()
	panicky := func(ctx context.Context, key string, items []string) ([]string, []error) {
		got, errs := h.send(ctx, key, items)
		if slices.Contains(items, "boom") {
			panic("boom")
		}
		return got, errs
	}
	var wg sync.WaitGroup
	answers := make([]answer, 3)
	var recovered any
	ask := func(i int, item string) {
		wg.Go(func() {
			defer func() {
				if v := recover(); v != nil {
					recovered = v
				}
			}()
			got, err := l.Do(context.Background(), "k", item, panicky)
			answers[i] = answer{got, err}
		})
	}
	ask(0, "a")
	<-h.holding
	// boom queues first behind a: it is handed the line and sends itself
	// and x, and its send panics.
	ask(1, "boom")
	for deadline := time.Now().Add(10 * time.Second); l.Waiting("k") != 1; {
		if time.Now().After(deadline) {
			t.Fatal("boom never queued")
		}
		time.Sleep(time.Millisecond)
	}
	ask(2, "x")
	for deadline := time.Now().Add(10 * time.Second); l.Waiting("k") != 2; {
		if time.Now().After(deadline) {
			t.Fatal("x never queued")
		}
		time.Sleep(time.Millisecond)
	}
	close(h.letGo)
	wg.Wait()
	if answers[0].got != "sent a" || answers[0].err != nil {
		t.Errorf("a: %q (%v)", answers[0].got, answers[0].err)
	}
	if recovered != "boom" {
		t.Errorf("the sender of the batch that panicked saw %v, want its send's panic raised", recovered)
	}
	if !errors.Is(answers[2].err, ErrSendFailed) {
		t.Errorf("x, in the batch that panicked: %q (%v), want ErrSendFailed", answers[2].got, answers[2].err)
	}
	if got, err := l.Do(context.Background(), "k", "later", panicky); err != nil || got != "sent later" {
		t.Errorf("a later call: %q (%v), want it sent: the line is free", got, err)
	}
}
