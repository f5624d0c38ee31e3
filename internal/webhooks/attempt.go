package webhooks

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode"
)

// maxErrorLen bounds the last error a delivery keeps (the column's CHECK).
const maxErrorLen = 300

// maxAnswerRead bounds what is read of an endpoint's answer: enough to
// reuse the connection after a short answer, and a snippet for the log.
const maxAnswerRead = 64 << 10

// outcome is what one attempt came to.
type outcome struct {
	code    int // 0: no HTTP answer
	latency time.Duration
	err     string // empty: delivered
}

// attempt sends one claimed delivery and records what came of it.
func (d *Dispatcher) attempt(ctx context.Context, t target, c claimed) {
	o := d.send(ctx, t, c)
	if ctx.Err() != nil {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if o.err == "" { // delivered just before the stop: say so, or it is sent again
			if err := d.finish(rctx, c, o); err != nil {
				d.log.Warn("webhooks: cannot record a delivery; it is sent again", "delivery", c.ID, "err", err)
			}
			return
		}
		// Stopping: the attempt was cut short, and is no one's failure.
		// Its lease is given back so that another worker sends it soon.
		if _, err := d.db.ExecContext(rctx, `UPDATE webhook_deliveries SET next_attempt_at = now()
			WHERE id = $1 AND status = 'pending'`, c.ID); err != nil {
			d.log.Warn("webhooks: cannot give back a delivery's lease; it is sent again when it ends", "delivery", c.ID, "err", err)
		}
		return
	}
	if err := d.finish(ctx, c, o); err != nil && ctx.Err() == nil {
		// The lease ends and the delivery is sent again: at least once.
		d.log.Warn("webhooks: cannot record a delivery's attempt", "delivery", c.ID, "err", err)
	}
}

// send posts the event, signed now, and reads a bounded part of the answer.
func (d *Dispatcher) send(ctx context.Context, t target, c claimed) outcome {
	body := []byte(c.Body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.URL, bytes.NewReader(body))
	if err != nil {
		return outcome{err: bounded("build request: " + err.Error())}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Foyer-Webhooks/1")
	req.Header.Set(EventIDHeader, c.EventID)
	req.Header.Set(EventTypeHeader, c.EventType)
	req.Header.Set(SignatureHeader, Sign(t.Secret, body, time.Now()))
	start := time.Now()
	resp, err := d.client.Do(req)
	if err != nil { // a refused address (dial.go) says so in err
		return outcome{latency: time.Since(start), err: bounded(err.Error())}
	}
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, maxAnswerRead))
	resp.Body.Close()
	o := outcome{code: resp.StatusCode, latency: time.Since(start)}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		o.err = bounded(fmt.Sprintf("HTTP %d: %s", resp.StatusCode, printable(snippet)))
	}
	return o
}

// finish records an attempt: delivered; or pending again after a delay;
// or dead, when the next attempt would come after MaxAge. Times are the
// database's, so workers with skewed clocks agree.
func (d *Dispatcher) finish(ctx context.Context, c claimed, o outcome) error {
	var code *int
	if o.code != 0 {
		code = &o.code
	}
	ms := int(o.latency.Milliseconds())
	if o.err == "" {
		_, err := d.db.ExecContext(ctx, `UPDATE webhook_deliveries SET status = 'delivered', attempts = attempts + 1,
			last_status_code = $2, last_latency_ms = $3, last_error = NULL, delivered_at = now()
			WHERE id = $1 AND status = 'pending'`, c.ID, code, ms)
		return err
	}
	delay := d.cfg.retryDelay(c.Attempts + 1)
	_, err := d.db.ExecContext(ctx, `UPDATE webhook_deliveries SET attempts = attempts + 1,
			last_status_code = $2, last_latency_ms = $3, last_error = $4,
			next_attempt_at = now() + make_interval(secs => $5),
			status = CASE WHEN now() + make_interval(secs => $5) > created_at + make_interval(secs => $6)
				THEN 'dead' ELSE 'pending' END
		WHERE id = $1 AND status = 'pending'`, c.ID, code, ms, o.err, delay.Seconds(), d.cfg.MaxAge.Seconds())
	return err
}

// printable keeps the start of an answer's body readable in the log.
func printable(b []byte) string {
	s := strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return ' '
	}, string(b))
	return strings.TrimSpace(s)
}

// bounded cuts an error to what the log keeps, on a character boundary.
func bounded(s string) string {
	r := []rune(s)
	if len(r) > maxErrorLen {
		return string(r[:maxErrorLen-1]) + "…"
	}
	return s
}
