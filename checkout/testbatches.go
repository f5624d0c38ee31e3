package checkout

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/foyerhq/foyer/internal/orderstream"
)

// How the test provider gathers its results into webhooks. Each webhook
// costs the gateway a request (read, HMAC, JSON, answer) and the provider a
// round trip; sent one per order they were a good part of a sale's cost per
// order, and the benches use this provider.
const (
	// batchWindow is how long a result that fell due waits for others to
	// fall due and join its webhook: the most batching adds to a payment's
	// Delay. 25ms, little next to a payment's own latency (200ms); at 5ms a
	// sale of 500 orders a second sent about two results a webhook, and
	// each webhook costs the gateway a request and the worker a transaction
	// (docs/performance.md, issue 21).
	batchWindow = 25 * time.Millisecond
	// maxDeliveries bounds the batches being posted (or retried) at once,
	// and so the provider's goroutines: one gathers, at most maxDeliveries
	// post. While all are busy (a gateway slow or down), results due keep
	// gathering, into fewer, fuller batches.
	maxDeliveries = 4
)

// dueResult is a result waiting for its payment's Delay.
type dueResult struct {
	result orderstream.PaymentResult
	at     time.Time // when the payment is done and its webhook may go
}

// sendDue is the provider's one gathering goroutine: it waits for results
// to fall due, takes them in batches of up to MaxWebhookResults, and hands
// each to a delivery, at most maxDeliveries at once. At Close it sends what
// is still waiting once, and awaits the deliveries. It owns its lifetime:
// Charge starts it, Close ends and awaits it.
func (p *TestProvider) sendDue() {
	defer p.running.Done()
	slots := make(chan struct{}, maxDeliveries)
	for {
		wait := p.untilBatch(time.Now())
		if wait > 0 {
			timer := time.NewTimer(wait)
			select {
			case <-p.ctx.Done():
				timer.Stop()
				p.sendWaitingOnce()
				return
			case <-p.queued:
			case <-timer.C:
			}
			timer.Stop()
			continue
		}
		select {
		case <-p.ctx.Done():
			p.sendWaitingOnce()
			return
		case slots <- struct{}{}:
		}
		// Taken once a delivery is free: what fell due meanwhile joins.
		batch := p.takeDue(time.Now(), false)
		p.running.Add(1)
		go func() {
			defer p.running.Done()
			defer func() { <-slots }()
			p.deliver(p.ctx, batch)
		}()
	}
}

// noneDue is untilBatch's answer when nothing waits: long, since a new
// result nudges the gatherer through p.queued.
const noneDue = time.Hour

// untilBatch is how long until a batch is ready: its first result has been
// due for batchWindow, or MaxWebhookResults are due. Zero or less: ready.
func (p *TestProvider) untilBatch(now time.Time) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.due) == 0 {
		return noneDue
	}
	ready := p.due[0].at.Add(batchWindow)
	if len(p.due) >= MaxWebhookResults {
		if full := p.due[MaxWebhookResults-1].at; full.Before(ready) {
			ready = full // a full batch goes at once
		}
	}
	return ready.Sub(now)
}

// takeDue removes and returns the results due by now, up to
// MaxWebhookResults; every result waiting, due or not, when all is set
// (Close).
func (p *TestProvider) takeDue(now time.Time, all bool) []orderstream.PaymentResult {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for n < len(p.due) && n < MaxWebhookResults && (all || !p.due[n].at.After(now)) {
		n++
	}
	batch := make([]orderstream.PaymentResult, n)
	for i, d := range p.due[:n] {
		batch[i] = d.result
	}
	p.due = p.due[n:]
	if len(p.due) == 0 {
		p.due = nil // let the backing array go
	}
	return batch
}

// sendWaitingOnce sends the results still waiting for their Delay as the
// provider closes, in batches, once each, within closeSendLimit in all:
// they were charged, and their charges are not redelivered. What is not
// accepted is left to the sweeper.
func (p *TestProvider) sendWaitingOnce() {
	ctx, cancel := context.WithTimeout(context.Background(), closeSendLimit)
	defer cancel()
	for {
		batch := p.takeDue(time.Time{}, true)
		if len(batch) == 0 {
			return
		}
		body, err := encodeWebhook(batch)
		if err == nil {
			err = p.post(ctx, body)
		}
		if err != nil {
			p.Log.Warn("test payment webhook not sent before closing; the sweeper will ask for its status",
				"first_order", batch[0].OrderID, "orders", len(batch), "err", err)
		}
		p.forget(batch)
	}
}

// encodeWebhook is the body of a webhook of results: a result alone as every
// gateway takes it, or {"results": [...]} for several (docs/protocol.md,
// "Payment webhook").
func encodeWebhook(batch []orderstream.PaymentResult) ([]byte, error) {
	var body any = orderstream.PaymentBatch{Results: batch}
	if len(batch) == 1 {
		body = batch[0]
	}
	b, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("encode %d payment results: %w", len(batch), err)
	}
	return b, nil
}
