package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/foyerhq/foyer/internal/shopperclient"
)

// run is one load run: its options, the shoppers' shared counters and the
// clock marks the rates are computed from.
type run struct {
	o       Options
	clients []*shopperclient.Client // one per node
	start   time.Time
	stop    context.CancelFunc // ends the run early once every shopper has ended

	// connecting is the connect back-pressure: a shopper holds a slot while
	// it creates its session and opens its WebSocket.
	connecting chan struct{}
	ended      atomic.Int64 // shoppers that reached their scenario's end

	c           counters
	joinLatency latencies
	admitToPaid latencies
	pushLatency latencies

	mu            sync.Mutex
	firstJoin     time.Time // first join sent
	lastJoinReply time.Time // last first reply to a join
	firstAdmit    time.Time
	lastPaid      time.Time
}

// Run plays o.Shoppers shoppers in o.Scenario until every one of them has
// ended or o.Duration has passed, and returns what they measured. A
// cancelled ctx stops the run early; Run still returns what was measured.
func Run(ctx context.Context, o Options) (Result, error) {
	o, err := o.withDefaults()
	if err != nil {
		return Result{}, fmt.Errorf("loadgen: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, o.Duration)
	defer cancel()
	r := &run{o: o, start: time.Now(), stop: cancel, connecting: make(chan struct{}, o.ConnectConcurrency)}
	for _, u := range o.URLs {
		r.clients = append(r.clients, shopperclient.New(u))
	}

	progressDone := make(chan struct{})
	stopProgress := make(chan struct{})
	go func() { r.drawProgress(stopProgress); close(progressDone) }()

	var wg sync.WaitGroup
	for i := range o.Shoppers {
		wg.Go(func() { r.shopper(ctx, i) })
	}
	if o.Scenario == Hold && o.AdminToken != "" {
		wg.Go(func() { r.probe(ctx) })
	}
	wg.Wait()
	close(stopProgress)
	<-progressDone
	return r.result(), nil
}

// shopper plays shopper i from its start in the spread to its end.
func (r *run) shopper(ctx context.Context, i int) {
	finished := false
	finish := func() {
		if !finished {
			finished = true
			if r.ended.Add(1) == int64(r.o.Shoppers) {
				r.stop()
			}
		}
	}
	defer finish()

	if r.o.Over > 0 {
		startAt := time.NewTimer(r.o.Over * time.Duration(i) / time.Duration(r.o.Shoppers))
		select {
		case <-startAt.C:
		case <-ctx.Done():
			startAt.Stop()
			return
		}
	}
	client := r.clients[i%len(r.clients)]
	conn, err := r.connect(ctx, client)
	if err != nil {
		if ctx.Err() == nil {
			r.c.fail(err.Error())
		}
		return
	}
	defer conn.CloseNow()
	r.c.connected.Add(1)

	joinSent := time.Now()
	r.mark(&r.firstJoin, joinSent, false)
	if err := conn.Join(ctx); err != nil {
		if ctx.Err() == nil {
			r.c.fail("join_failed")
		}
		return
	}

	var (
		replied    bool      // the join was answered
		admittedAt time.Time // when admitted; zero before
		soldOut    bool      // counted as sold out already
	)
	answered := func() {
		if !replied {
			replied = true
			now := time.Now()
			r.c.joined.Add(1)
			r.joinLatency.add(now.Sub(joinSent))
			r.mark(&r.lastJoinReply, now, true)
		}
	}
	// sawSoldOut counts a shopper who lost out, once whichever way it
	// heard; it reports whether the shopper is done. A shopper admitted in a
	// sale waits for its order instead: the sale sells out around it.
	sawSoldOut := func() bool {
		if r.o.Scenario == Sale && !admittedAt.IsZero() {
			return false
		}
		if !soldOut {
			soldOut = true
			r.c.soldOut.Add(1)
		}
		return r.o.Scenario != Hold
	}

	for {
		m, err := conn.Next(ctx)
		if err != nil {
			if ctx.Err() != nil {
				r.c.held.Add(1)
			} else {
				r.c.fail(readErrorCode(err))
			}
			return
		}
		switch m.Type {
		case "position", "prequeue":
			answered()
			if r.o.Scenario == Storm {
				finish() // still holds its socket until the run stops
			}
		case "admitted":
			answered()
			admittedAt = time.Now()
			r.c.admitted.Add(1)
			r.mark(&r.firstAdmit, admittedAt, false)
			switch r.o.Scenario {
			case Storm:
				finish()
			case Sale:
				if _, err := client.Checkout(ctx, m.CheckoutURL, m.Token); err != nil {
					if ctx.Err() == nil {
						r.c.fail(errorCode(err, "checkout_failed"))
					}
					return
				}
			}
		case "order":
			switch m.Status {
			case "paid":
				now := time.Now()
				r.c.paid.Add(1)
				if !admittedAt.IsZero() {
					r.admitToPaid.add(now.Sub(admittedAt))
				}
				r.mark(&r.lastPaid, now, true)
			case "cancelled":
				r.c.cancelled.Add(1)
			default: // pending_payment, confirmed: the outcome follows
				continue
			}
			if r.o.Scenario == Sale {
				return
			}
		case "expired":
			r.c.expired.Add(1)
			if r.o.Scenario == Sale {
				return
			}
		case "sold_out":
			if sawSoldOut() {
				return
			}
		case "state":
			if sent, ok := strings.CutPrefix(m.Message, probePrefix); ok {
				if ns, err := strconv.ParseInt(sent, 10, 64); err == nil {
					r.pushLatency.add(time.Since(time.Unix(0, ns)))
				}
				continue
			}
			if m.State == "sold_out" && sawSoldOut() {
				return
			}
			if m.State == "ended" && r.o.Scenario != Hold {
				return
			}
		case "error":
			if m.Code == "sold_out" {
				if sawSoldOut() {
					return
				}
				continue
			}
			r.c.fail(m.Code)
			if r.o.Scenario != Hold {
				return
			}
		}
	}
}

// connect creates a session and opens the sale's WebSocket, waiting for a
// connecting slot first. Its error's text is the error code to count.
func (r *run) connect(ctx context.Context, client *shopperclient.Client) (*shopperclient.Conn, error) {
	select {
	case r.connecting <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-r.connecting }()
	sess, err := client.NewSession(ctx)
	if err != nil {
		return nil, errors.New(errorCode(err, "session_failed"))
	}
	conn, err := client.Connect(ctx, r.o.SaleID, sess)
	if err != nil {
		return nil, errors.New(errorCode(err, "connect_failed"))
	}
	return conn, nil
}

// mark sets *t to now if it is the first mark (last false) or a later one
// (last true).
func (r *run) mark(t *time.Time, now time.Time, last bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if t.IsZero() || (last && now.After(*t)) || (!last && now.Before(*t)) {
		*t = now
	}
}

// errorCode is the code of an API error, or fallback for any other error.
func errorCode(err error, fallback string) string {
	var api *shopperclient.APIError
	if errors.As(err, &api) {
		if api.Code != "" {
			return api.Code
		}
		return fmt.Sprintf("http_%d", api.Status)
	}
	return fallback
}

// readErrorCode names why a connection stopped delivering messages: the
// close code the server sent, or a lost connection.
func readErrorCode(err error) string {
	if code := websocket.CloseStatus(err); code != -1 {
		return fmt.Sprintf("close_%d", int(code))
	}
	return "connection_lost"
}

// drawProgress redraws the progress line every second until stop is closed,
// then draws it a last time and ends the line.
func (r *run) drawProgress(stop <-chan struct{}) {
	w := r.o.Progress
	if w == nil {
		<-stop
		return
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			r.drawLine(w)
		case <-stop:
			r.drawLine(w)
			fmt.Fprintln(w)
			return
		}
	}
}

func (r *run) drawLine(w io.Writer) {
	_, errs := r.c.errorCounts()
	fmt.Fprintf(w, "\r%5.0fs  connected %d  joined %d  admitted %d  paid %d  sold_out %d  errors %d  ",
		time.Since(r.start).Seconds(), r.c.connected.Load(), r.c.joined.Load(), r.c.admitted.Load(),
		r.c.paid.Load(), r.c.soldOut.Load(), errs)
}

// result gathers the run's numbers once every shopper has returned.
func (r *run) result() Result {
	byCode, total := r.c.errorCounts()
	r.mu.Lock()
	joinSpan := r.lastJoinReply.Sub(r.firstJoin)
	orderSpan := r.lastPaid.Sub(r.firstAdmit)
	r.mu.Unlock()
	res := Result{
		Scenario:    r.o.Scenario,
		Shoppers:    r.o.Shoppers,
		Elapsed:     time.Since(r.start),
		Connected:   r.c.connected.Load(),
		Held:        r.c.held.Load(),
		Joined:      r.c.joined.Load(),
		Admitted:    r.c.admitted.Load(),
		Paid:        r.c.paid.Load(),
		Cancelled:   r.c.cancelled.Load(),
		SoldOut:     r.c.soldOut.Load(),
		Expired:     r.c.expired.Load(),
		Errors:      total,
		ErrorCodes:  byCode,
		JoinLatency: r.joinLatency.summary(),
		AdmitToPaid: r.admitToPaid.summary(),
		PushLatency: r.pushLatency.summary(),
	}
	res.JoinsPerSecond = perSecond(res.Joined, joinSpan)
	res.OrdersPerSecond = perSecond(res.Paid, orderSpan)
	return res
}

// probePrefix starts the operator messages a hold run sends to measure push
// latency; the rest is the send time in Unix nanoseconds.
const probePrefix = "loadgen-probe "

// probe sends a stamped operator message every ProbeEvery until the run
// ends.
func (r *run) probe(ctx context.Context) {
	t := time.NewTicker(r.o.ProbeEvery)
	defer t.Stop()
	// Probes measure the push of a steady room, not the connect storm:
	// they start once every shopper has joined.
	for r.c.joined.Load() < int64(r.o.Shoppers) {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
	url := strings.TrimRight(r.o.URLs[0], "/") + "/v1/admin/sales/" + r.o.SaleID + "/messages"
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		body := fmt.Sprintf(`{"text":%q}`, probePrefix+strconv.FormatInt(time.Now().UnixNano(), 10))
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
		if err != nil {
			return
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+r.o.AdminToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			if ctx.Err() == nil {
				r.c.fail("probe_failed")
			}
			continue
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			r.c.fail(fmt.Sprintf("probe_%d", resp.StatusCode))
		}
	}
}
