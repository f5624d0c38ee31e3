package loadgen

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/foyerhq/foyer/internal/clock"
	"github.com/foyerhq/foyer/internal/shopperclient"
	"github.com/foyerhq/foyer/internal/wire"
)

// player plays its share of a run's shoppers in this process: the shoppers
// with global indices First, First+Stride, First+2·Stride, ... It keeps the
// counters the progress line reads and what the final Partial reports.
type player struct {
	cfg     playerConfig
	clients []*shopperclient.Client // one per node
	stop    context.CancelFunc      // ends the play early once every shopper has ended

	// connecting is the connect back-pressure: a shopper holds a slot from
	// the start of its connection, which makes its session and asks for its
	// join, until the join is answered (or fails).
	connecting chan struct{}
	ended      atomic.Int64 // shoppers that reached their scenario's end

	c           counters
	joinLatency latencies
	admitToPaid latencies
	checkout    latencies
	admitPush   latencies
	probePush   latencies
	slowPush    latencies

	mu            sync.Mutex
	stockSeen     map[int64][]int64
	firstJoin     time.Time // first connection started, which asks for the join
	lastJoinReply time.Time // last first reply to a join
	firstAdmit    time.Time
	firstPaid     time.Time
	lastPaid      time.Time
	joinCPU       time.Duration // this process's CPU from the start of play until every shopper had joined or failed
	joinCPUNoted  bool          // joinCPU was measured
}

// playerConfig is what a player needs; a child process gets it as JSON.
type playerConfig struct {
	URLs               []string
	SaleID             string
	Scenario           string
	Shoppers           int // this player's
	First, Stride      int // global index of this player's first shopper, and the step between its shoppers
	Total              int // shoppers in the whole run
	Duration, Over     time.Duration
	ConnectConcurrency int
	Source             string // source IP to connect from; empty lets the kernel choose
	SlowShare          float64
	SlowDelay          time.Duration
	PingEvery          time.Duration // keepalive interval; zero keeps the client's own
	CheckoutOverHTTP   bool          // check out with a POST, not over the socket
}

func newPlayer(cfg playerConfig) (*player, error) {
	transport, err := transportFrom(cfg.Source, cfg.ConnectConcurrency)
	if err != nil {
		return nil, err
	}
	p := &player{cfg: cfg, connecting: make(chan struct{}, cfg.ConnectConcurrency), stockSeen: map[int64][]int64{}}
	for _, u := range cfg.URLs {
		client := shopperclient.NewWithTransport(u, transport)
		client.SetPingInterval(cfg.PingEvery)
		p.clients = append(p.clients, client)
	}
	return p, nil
}

// transportFrom is the player's transport: from its source address, keeping
// enough idle connections that sessions and checkouts reuse them rather
// than leave thousands of ports in TIME_WAIT, and closing them once a burst
// is over: a shopper's browser makes its session request and is then on its
// WebSocket, and a gateway's reading of what held shoppers cost must not
// count the load generator's pool.
func transportFrom(source string, idle int) (*http.Transport, error) {
	t, err := shopperclient.TransportFrom(source)
	if err != nil {
		return nil, err
	}
	t.MaxIdleConnsPerHost = idle
	t.IdleConnTimeout = 2 * time.Second
	return t, nil
}

// play runs every shopper of the player until each has ended or ctx is done.
func (p *player) play(ctx context.Context) Partial {
	ctx, cancel := context.WithTimeout(ctx, p.cfg.Duration)
	defer cancel()
	p.stop = cancel
	began := ProcessCPU()
	var wg sync.WaitGroup
	wg.Go(func() { p.noteJoinCPU(ctx, began) })
	for j := range p.cfg.Shoppers {
		wg.Go(func() { p.shopper(ctx, p.cfg.First+j*p.cfg.Stride) })
	}
	wg.Wait()
	part := p.partial()
	// began is zero only where ProcessCPU measures nothing.
	if began > 0 {
		part.PlayCPU = ProcessCPU() - began
	}
	return part
}

// noteJoinCPU notes the CPU this process has used since began, once all its
// shoppers have joined or failed: what joining cost the load generator (in
// a run of one process, the run's own bookkeeping too).
func (p *player) noteJoinCPU(ctx context.Context, began time.Duration) {
	poll := time.NewTicker(20 * time.Millisecond)
	defer poll.Stop()
	for !settled(p.progress(), p.cfg.Shoppers) {
		select {
		case <-ctx.Done():
			// A storm ends the play the moment its last shopper joins:
			// settled then, it is noted all the same.
			if !settled(p.progress(), p.cfg.Shoppers) {
				return
			}
		case <-poll.C:
		}
	}
	p.mu.Lock()
	// began is zero only where ProcessCPU measures nothing.
	p.joinCPU, p.joinCPUNoted = ProcessCPU()-began, began > 0
	p.mu.Unlock()
}

// slow reports whether shopper g reads slowly: SlowShare of the shoppers,
// spread evenly over the run.
func (p *player) slow(g int) bool {
	// Shopper g is slow when the running count of slow shoppers steps up at
	// it: any run of shoppers has its share of slow ones.
	return int(float64(g+1)*p.cfg.SlowShare) > int(float64(g)*p.cfg.SlowShare)
}

// shopper plays shopper g (its index in the whole run) from its start in
// the spread to its end.
func (r *player) shopper(ctx context.Context, g int) {
	finished := false
	finish := func() {
		if !finished {
			finished = true
			if r.ended.Add(1) == int64(r.cfg.Shoppers) {
				r.stop()
			}
		}
	}
	defer finish()
	scenario, slow := r.cfg.Scenario, r.slow(g)

	if r.cfg.Over > 0 {
		startAt := time.NewTimer(r.cfg.Over * time.Duration(g) / time.Duration(r.cfg.Total))
		select {
		case <-startAt.C:
		case <-ctx.Done():
			startAt.Stop()
			return
		}
	}
	client := r.clients[g%len(r.clients)]
	// The join is asked with the connection, as a mobile client asks it
	// (Arrive): it starts when the connection does, connecting slot aside.
	conn, joinSent, arrived, err := r.connect(ctx, client)
	if err != nil {
		if ctx.Err() == nil {
			r.c.fail(err.Error())
		}
		return
	}
	defer arrived()
	defer conn.CloseNow()
	r.c.connected.Add(1)
	r.mark(&r.firstJoin, joinSent, false)

	var (
		welcomed   bool      // the socket's welcome came: the arrival was not refused
		replied    bool      // the join was answered
		admittedAt time.Time // when admitted; zero before
		checkedOut time.Time // when a checkout went over the socket, until its answer
		soldOut    bool      // counted as sold out already
		lastStock  int64     // the stock total last told
	)
	answered := func() {
		if !replied {
			arrived()
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
		if scenario == Sale && !admittedAt.IsZero() {
			return false
		}
		if !soldOut {
			soldOut = true
			r.c.soldOut.Add(1)
		}
		return !holding(scenario)
	}

	for {
		if slow {
			// An ended ctx is seen by conn.Next, which counts the shopper held.
			_ = clock.Sleep(ctx, r.cfg.SlowDelay)
		}
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
		case "welcome":
			welcomed = true
		case "position", "prequeue":
			answered()
			if scenario == Storm {
				finish() // still holds its socket until the run stops
			}
		case "admitted":
			answered()
			admittedAt = time.Now()
			r.c.admitted.Add(1)
			r.mark(&r.firstAdmit, admittedAt, false)
			if !m.AdmittedAt.IsZero() {
				r.admitPush.add(admittedAt.Sub(m.AdmittedAt))
			}
			switch scenario {
			case Storm:
				finish()
			case Sale:
				sent := time.Now()
				if !r.cfg.CheckoutOverHTTP {
					// Answered by the next order message (or an error in
					// reply), read below.
					if err := conn.Checkout(ctx, m.Token); err != nil {
						if ctx.Err() == nil {
							r.c.fail("checkout_failed")
						}
						return
					}
					checkedOut = sent
					continue
				}
				if _, err := client.Checkout(ctx, m.CheckoutURL, m.Token); err != nil {
					if ctx.Err() == nil {
						r.c.fail(errorCode(err, "checkout_failed"))
					}
					return
				}
				r.checkout.add(time.Since(sent))
			}
		case "order":
			if !checkedOut.IsZero() {
				r.checkout.add(time.Since(checkedOut))
				checkedOut = time.Time{}
			}
			switch m.Status {
			case "paid":
				now := time.Now()
				r.c.paid.Add(1)
				if !admittedAt.IsZero() {
					r.admitToPaid.add(now.Sub(admittedAt))
				}
				r.mark(&r.firstPaid, now, false)
				r.mark(&r.lastPaid, now, true)
			case "cancelled":
				r.c.cancelled.Add(1)
			default: // pending_payment, confirmed: the outcome follows
				continue
			}
			if scenario == Sale {
				return
			}
		case "expired":
			r.c.expired.Add(1)
			if scenario == Sale {
				return
			}
		case "stock":
			if m.Total != lastStock {
				lastStock = m.Total
				r.sawStock(m.Total, time.Now())
			}
		case "sold_out":
			if sawSoldOut() {
				return
			}
		case "state":
			if sent, ok := strings.CutPrefix(m.Message, probePrefix); ok {
				if ns, err := strconv.ParseInt(sent, 10, 64); err == nil {
					if slow {
						r.slowPush.add(time.Since(time.Unix(0, ns)))
					} else {
						r.probePush.add(time.Since(time.Unix(0, ns)))
					}
				}
				continue
			}
			if m.State == "sold_out" && sawSoldOut() {
				return
			}
			if m.State == "ended" && !holding(scenario) {
				return
			}
		case "error":
			arrived() // answered, if with a refusal: the slot goes to the next shopper
			if !welcomed {
				// The socket was refused before its welcome (rate_limited,
				// unavailable): the arrival failed, and the socket closes.
				r.c.fail(m.Code)
				return
			}
			if m.InReplyTo == wire.CmdCheckout {
				r.c.fail(m.Code) // the checkout refused: the shopper is done
				return
			}
			if m.Code == "sold_out" {
				if sawSoldOut() {
					return
				}
				continue
			}
			if (m.Code == "busy" || m.Code == "rate_limited") && !replied {
				// As a real client does: wait what the server asks, plus
				// jitter, and join again. Counted, not an error.
				r.c.retried.Add(1)
				_ = clock.Sleep(ctx, time.Duration(max(1, m.RetryAfter))*time.Second+time.Duration(rand.Int64N(int64(time.Second))))
				if err := conn.Join(ctx); err != nil && ctx.Err() == nil {
					r.c.fail("join_failed")
					return
				}
				continue
			}
			r.c.fail(m.Code)
			if !holding(scenario) {
				return
			}
		}
	}
}

// connect opens the sale's WebSocket for a new shopper, joining at once
// (a session made by the server, the join asked in the same request), and
// says when it began, after waiting for a connecting slot. The shopper
// holds the slot until it calls arrived, once its join is answered: the
// server does most of an arrival's work after the upgrade, so a slot given
// back at the upgrade would let every shopper in at once. Its error's text
// is the error code to count.
func (r *player) connect(ctx context.Context, client *shopperclient.Client) (conn *shopperclient.Conn, began time.Time, arrived func(), err error) {
	select {
	case r.connecting <- struct{}{}:
	case <-ctx.Done():
		return nil, time.Time{}, nil, ctx.Err()
	}
	arrived = sync.OnceFunc(func() { <-r.connecting })
	began = time.Now()
	conn, err = client.Arrive(ctx, r.cfg.SaleID, nil)
	if err != nil {
		arrived()
		return nil, began, nil, errors.New(errorCode(err, "connect_failed"))
	}
	return conn, began, arrived, nil
}

// mark sets *t to now if it is the first mark (last false) or a later one
// (last true).
func (r *player) mark(t *time.Time, now time.Time, last bool) {
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

// sawStock records that a shopper was told the stock total at time at.
func (r *player) sawStock(total int64, at time.Time) {
	r.mu.Lock()
	r.stockSeen[total] = append(r.stockSeen[total], at.UnixNano())
	r.mu.Unlock()
}

// holding reports whether a scenario's shoppers stay connected to the end
// of the run, whatever they hear.
func holding(scenario string) bool { return scenario == Hold || scenario == Slow }

// progress is the player's live counts.
func (r *player) progress() Progress {
	_, errs := r.c.errorCounts()
	return Progress{Connected: r.c.connected.Load(), Joined: r.c.joined.Load(), Admitted: r.c.admitted.Load(),
		Paid: r.c.paid.Load(), SoldOut: r.c.soldOut.Load(), Errors: errs}
}

// partial gathers what the player measured once every shopper has returned.
func (r *player) partial() Partial {
	byCode, _ := r.c.errorCounts()
	r.mu.Lock()
	defer r.mu.Unlock()
	unix := func(t time.Time) int64 {
		if t.IsZero() {
			return 0
		}
		return t.UnixNano()
	}
	return Partial{
		Connected: r.c.connected.Load(), Joined: r.c.joined.Load(), Admitted: r.c.admitted.Load(),
		Paid: r.c.paid.Load(), Cancelled: r.c.cancelled.Load(), SoldOut: r.c.soldOut.Load(),
		Expired: r.c.expired.Load(), Held: r.c.held.Load(), Retried: r.c.retried.Load(), ErrorCodes: byCode,
		JoinLatency: r.joinLatency.all(), AdmitToPaid: r.admitToPaid.all(), Checkout: r.checkout.all(), AdmitPush: r.admitPush.all(),
		ProbePush: r.probePush.all(), SlowPush: r.slowPush.all(), StockSeen: r.stockSeen,
		FirstJoin: unix(r.firstJoin), LastJoinReply: unix(r.lastJoinReply),
		FirstAdmit: unix(r.firstAdmit), FirstPaid: unix(r.firstPaid), LastPaid: unix(r.lastPaid),
		JoinCPU: r.joinCPU, JoinCPUUnknown: !r.joinCPUNoted,
	}
}
