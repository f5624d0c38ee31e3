package webhooks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
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

// recordOutcomesSQL records the attempts of a batch in one statement, each
// delivered; or pending again after its delay ($5, seconds); or dead, when
// that next attempt would come after MaxAge ($6) from the delivery's first
// attempt (first_attempt_at, migration 00016, set by the first record).
// Times are the database's, so workers with skewed clocks agree. A row no
// longer pending (its endpoint deleted, say) is left alone.
//
// It records only while owner $8 still holds the lease of endpoint $7's
// lane, and locks the lane's row FOR SHARE until it commits: no other
// dispatcher can take the lane over between the check and the commit
// (taking it updates that row), and one that took it before finds the
// outcomes unrecorded. Without that, a record coming late, after the lease
// ended and another lane claimed the delivery still pending, could mark it
// delivered under the new lane, which would then claim the next of its key
// while sending this one again: two of one key in flight, out of order. It
// yields whether the lease was held.
const recordOutcomesSQL = `
WITH lane AS (
	SELECT 1 FROM webhook_lanes WHERE endpoint_id = $7 AND owner = $8 AND leased_until > now() FOR SHARE
), recorded AS (
	UPDATE webhook_deliveries w SET attempts = w.attempts + 1,
		last_status_code = NULLIF(r.code, 0), last_latency_ms = r.ms, last_error = NULLIF(r.err, ''),
		first_attempt_at = coalesce(w.first_attempt_at, now()),
		delivered_at = CASE WHEN r.err = '' THEN now() ELSE w.delivered_at END,
		next_attempt_at = CASE WHEN r.err = '' THEN w.next_attempt_at ELSE now() + make_interval(secs => r.delay) END,
		status = CASE WHEN r.err = '' THEN 'delivered'
			WHEN now() + make_interval(secs => r.delay) > coalesce(w.first_attempt_at, now()) + make_interval(secs => $6) THEN 'dead'
			ELSE 'pending' END
	FROM unnest($1::bigint[], $2::int[], $3::int[], $4::text[], $5::float8[]) AS r(id, code, ms, err, delay)
	WHERE w.id = r.id AND w.status = 'pending' AND EXISTS (SELECT 1 FROM lane)
	RETURNING 1
)
SELECT EXISTS (SELECT 1 FROM lane)`

// errLeaseLost: the lane's lease had ended, in the database, when its
// outcomes were to be recorded.
var errLeaseLost = errors.New("the lane's lease has ended")

// record writes what came of a batch of attempts in one statement; one
// cut short writes nothing. It runs on when ctx has ended (a delivery that
// made it just before the stop must say so, or it is sent again), for a
// few seconds at most. errLeaseLost when the lane's lease had ended: then
// nothing is recorded, and the deliveries are due as they were.
func (d *Dispatcher) record(ctx context.Context, st *statements, t target, batch []attempted) error {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
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
		return nil
	}
	var held bool
	if err := st.record.GetContext(rctx, &held, pq.Array(ids), pq.Array(codes), pq.Array(ms),
		pq.Array(errs), pq.Array(delays), d.cfg.MaxAge.Seconds(), t.ID, d.owner); err != nil {
		return fmt.Errorf("record attempts of deliveries %v: %w", ids, err)
	}
	if !held {
		return errLeaseLost
	}
	return nil
}

// recordTimeout bounds one record statement.
const recordTimeout = 5 * time.Second

// recordTriesWhole is how many times a batch's record is tried whole
// before each of its outcomes is tried alone: one row the database refuses
// must not keep the others unrecorded.
const recordTriesWhole = 3

// maxRecordBackoff caps the pause between two tries of a failed record.
const maxRecordBackoff = 5 * time.Second

// recordHeld records a batch's outcomes, trying again while the database
// fails them, with a pause from Poll doubling up to maxRecordBackoff, and
// after recordTriesWhole failures row by row; release is told of each
// part once it is recorded (or dropped). Meanwhile the unrecorded stay
// held and failing is set, so the lane claims nothing, and outcomes that
// come in on done meanwhile join them: one row the database refuses holds
// up no other. (A failed record used to let the next claim take the batch
// straight back and send it again at once, its attempt not counted,
// however the endpoint answered: a loop against a failing endpoint, never
// moving towards dead.) It gives up once ctx has ended: those deliveries
// are sent again later, at least once. A lease found lost drops the
// outcomes (whoever holds the lane sends them again) and stops the lane's
// attempts.
func (d *Dispatcher) recordHeld(ctx context.Context, st *statements, t target, l *laneLease, batch []attempted,
	done <-chan attempted, failing *atomic.Bool, release func([]attempted)) {
	defer failing.Store(false)
	// try records part, giving what is still unrecorded.
	try := func(part []attempted) []attempted {
		err := d.record(ctx, st, t, part)
		switch {
		case err == nil:
		case errors.Is(err, errLeaseLost):
			l.lose()
			d.log.Warn("webhooks: the lane's lease ended before its outcomes were recorded; they are sent again",
				"endpoint", t.ID, "deliveries", idsOf(part))
		default:
			d.log.Warn("webhooks: cannot record attempts; trying again", "endpoint", t.ID, "err", err)
			return part
		}
		release(part)
		return nil
	}
	left := batch
	for n := 1; ; n++ {
		if n <= recordTriesWhole {
			left = try(left)
		} else {
			var still []attempted
			for _, a := range left {
				still = append(still, try([]attempted{a})...)
			}
			left = still
		}
		if len(left) == 0 {
			return
		}
		failing.Store(true)
		pause := time.NewTimer(min(d.cfg.Poll<<min(n-1, 16), maxRecordBackoff))
	wait:
		for {
			select {
			case <-ctx.Done():
				pause.Stop()
				d.log.Warn("webhooks: stopped with attempts unrecorded; their deliveries are sent again",
					"endpoint", t.ID, "deliveries", idsOf(left))
				release(left)
				return
			case a, ok := <-done:
				if !ok {
					done = nil // closed: the lane stops, and ctx has ended
					continue
				}
				left = append(left, a)
			case <-pause.C:
				break wait
			}
		}
	}
}

func idsOf(batch []attempted) []int64 {
	out := make([]int64, 0, len(batch))
	for _, a := range batch {
		if !a.cut {
			out = append(out, a.ID)
		}
	}
	return out
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
