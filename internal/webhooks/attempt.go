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

	"github.com/lib/pq"
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

// recordOutcomesSQL records the
// attempts of a batch in one statement, each delivered; or pending again
// after its delay ($5, seconds); or dead, when that next attempt would come
// after MaxAge ($6) from the delivery's making. Times are the database's,
// so workers with skewed clocks agree. A row no longer pending (its
// endpoint deleted, say) is left alone.
const recordOutcomesSQL = `
UPDATE webhook_deliveries w SET attempts = w.attempts + 1,
	last_status_code = NULLIF(r.code, 0), last_latency_ms = r.ms, last_error = NULLIF(r.err, ''),
	delivered_at = CASE WHEN r.err = '' THEN now() ELSE w.delivered_at END,
	next_attempt_at = CASE WHEN r.err = '' THEN w.next_attempt_at ELSE now() + make_interval(secs => r.delay) END,
	status = CASE WHEN r.err = '' THEN 'delivered'
		WHEN now() + make_interval(secs => r.delay) > w.created_at + make_interval(secs => $6) THEN 'dead'
		ELSE 'pending' END
FROM unnest($1::bigint[], $2::int[], $3::int[], $4::text[], $5::float8[]) AS r(id, code, ms, err, delay)
WHERE w.id = r.id AND w.status = 'pending'`

// record writes what came of a batch of attempts in one statement; one
// cut short writes nothing. It runs on when ctx has ended (a delivery that
// made it just before the stop must say so, or it is sent again), for a
// few seconds at most. A record that fails leaves the deliveries pending:
// they are sent again, at least once.
func (d *Dispatcher) record(ctx context.Context, st *statements, batch []attempted) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	var ids, codes, ms []int64
	var errs []string
	var delays []float64
	for _, a := range batch {
		if a.cut {
			continue
		}
		ids = append(ids, a.ID)
		codes = append(codes, int64(a.code))
		ms = append(ms, a.latency.Milliseconds())
		errs = append(errs, a.err)
		var delay time.Duration
		if a.err != "" {
			delay = d.cfg.retryDelay(a.Attempts + 1)
		}
		delays = append(delays, delay.Seconds())
	}
	if len(ids) == 0 {
		return
	}
	if _, err := st.record.ExecContext(rctx, pq.Array(ids), pq.Array(codes), pq.Array(ms),
		pq.Array(errs), pq.Array(delays), d.cfg.MaxAge.Seconds()); err != nil {
		d.log.Warn("webhooks: cannot record attempts; their deliveries are sent again", "deliveries", ids, "err", err)
	}
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
