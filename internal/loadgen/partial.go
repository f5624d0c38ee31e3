package loadgen

import (
	"maps"
	"time"
)

// Progress is a live snapshot of a player's counts, for the progress line
// and for knowing when every shopper has joined.
type Progress struct {
	Connected int64 `json:"connected"`
	Joined    int64 `json:"joined"`
	Admitted  int64 `json:"admitted"`
	Paid      int64 `json:"paid"`
	SoldOut   int64 `json:"sold_out"`
	Errors    int64 `json:"errors"`
}

func (p Progress) plus(q Progress) Progress {
	return Progress{p.Connected + q.Connected, p.Joined + q.Joined, p.Admitted + q.Admitted,
		p.Paid + q.Paid, p.SoldOut + q.SoldOut, p.Errors + q.Errors}
}

// Partial is what one player (one process's shoppers) measured, in a form
// that adds up across processes: counts, raw latencies and wall-clock marks.
// All processes of a run share the machine's clock, so marks and arrival
// times compare across them.
type Partial struct {
	Connected, Joined, Admitted, Paid, Cancelled, SoldOut, Expired, Held int64
	Retried                                                              int64 // joins told busy or rate_limited, sent again

	ErrorCodes map[string]int64

	JoinLatency []time.Duration // connection started (the join asked with it) → first answer
	AdmitToPaid []time.Duration // admitted message → paid order
	Checkout    []time.Duration // checkout request sent → its HTTP answer read
	AdmitPush   []time.Duration // the admitter's tick (admitted_at) → admitted message
	ProbePush   []time.Duration // operator message → shoppers reading at full speed
	SlowPush    []time.Duration // operator message → the slow readers
	// StockSeen holds, for each stock total a shopper was told, the times
	// (Unix ns) it arrived; the prober knows when each total was set.
	StockSeen map[int64][]int64

	FirstJoin, LastJoinReply, FirstAdmit, FirstPaid, LastPaid int64 // Unix ns; zero when none

	JoinCPU time.Duration // the player process's CPU from its start of play until all its shoppers had joined or failed
	// JoinCPUUnknown says a player ended before all its shoppers joined or
	// failed, or could not read its CPU: the run's JoinCPU is then unknown.
	JoinCPUUnknown bool
	// PlayCPU is the player process's CPU from its start of play to its end.
	PlayCPU time.Duration
}

// merge adds q into p.
func (p *Partial) merge(q Partial) {
	p.Connected += q.Connected
	p.Joined += q.Joined
	p.Admitted += q.Admitted
	p.Paid += q.Paid
	p.Cancelled += q.Cancelled
	p.SoldOut += q.SoldOut
	p.Expired += q.Expired
	p.Held += q.Held
	p.Retried += q.Retried
	if p.ErrorCodes == nil {
		p.ErrorCodes = map[string]int64{}
	}
	for code, n := range q.ErrorCodes {
		p.ErrorCodes[code] += n
	}
	p.JoinLatency = append(p.JoinLatency, q.JoinLatency...)
	p.AdmitToPaid = append(p.AdmitToPaid, q.AdmitToPaid...)
	p.Checkout = append(p.Checkout, q.Checkout...)
	p.AdmitPush = append(p.AdmitPush, q.AdmitPush...)
	p.ProbePush = append(p.ProbePush, q.ProbePush...)
	p.SlowPush = append(p.SlowPush, q.SlowPush...)
	if p.StockSeen == nil {
		p.StockSeen = map[int64][]int64{}
	}
	for total, at := range q.StockSeen {
		p.StockSeen[total] = append(p.StockSeen[total], at...)
	}
	p.FirstJoin = earliest(p.FirstJoin, q.FirstJoin)
	p.FirstAdmit = earliest(p.FirstAdmit, q.FirstAdmit)
	p.LastJoinReply = max(p.LastJoinReply, q.LastJoinReply)
	p.FirstPaid = earliest(p.FirstPaid, q.FirstPaid)
	p.LastPaid = max(p.LastPaid, q.LastPaid)
	p.JoinCPU += q.JoinCPU
	p.PlayCPU += q.PlayCPU
	p.JoinCPUUnknown = p.JoinCPUUnknown || q.JoinCPUUnknown
}

// earliest is the earlier of two marks, zero meaning none.
func earliest(a, b int64) int64 {
	if a == 0 || (b != 0 && b < a) {
		return b
	}
	return a
}

// stockLatencies pairs each arrival of a stock total with the time the
// prober set that total. Totals the prober did not set are not its probes.
func (p Partial) stockLatencies(setAt map[int64]time.Time) []time.Duration {
	var ds []time.Duration
	for total, arrivals := range p.StockSeen {
		sent, ok := setAt[total]
		if !ok {
			continue
		}
		for _, at := range arrivals {
			ds = append(ds, time.Unix(0, at).Sub(sent))
		}
	}
	return ds
}

// result turns the merged measurements of a run into its Result.
func (p Partial) result(o Options, elapsed time.Duration, stockSetAt map[int64]time.Time) Result {
	var errs int64
	for _, n := range p.ErrorCodes {
		errs += n
	}
	res := Result{
		Scenario: o.Scenario, Shoppers: o.Shoppers, Procs: o.Procs, Nodes: len(o.URLs), Elapsed: elapsed,
		Connected: p.Connected, Held: p.Held, Joined: p.Joined, Admitted: p.Admitted, Paid: p.Paid,
		Cancelled: p.Cancelled, SoldOut: p.SoldOut, Expired: p.Expired, Retried: p.Retried,
		Errors: errs, ErrorCodes: maps.Clone(p.ErrorCodes),
		JoinLatency:     Summarize(p.JoinLatency),
		AdmitToPaid:     Summarize(p.AdmitToPaid),
		CheckoutLatency: Summarize(p.Checkout),
		AdmitPush:       Summarize(p.AdmitPush),
		PushLatency:     Summarize(p.ProbePush),
		SlowPushLatency: Summarize(p.SlowPush),
		StockPush:       Summarize(p.stockLatencies(stockSetAt)),
	}
	if !p.JoinCPUUnknown {
		res.JoinCPU = p.JoinCPU
	}
	res.PlayCPU = p.PlayCPU
	if res.ErrorCodes == nil {
		res.ErrorCodes = map[string]int64{}
	}
	if p.FirstJoin != 0 && p.LastJoinReply != 0 {
		res.JoinsPerSecond = perSecond(res.Joined, time.Duration(p.LastJoinReply-p.FirstJoin))
	}
	if p.FirstAdmit != 0 && p.LastPaid != 0 {
		res.OrdersPerSecond = perSecond(res.Paid, time.Duration(p.LastPaid-p.FirstAdmit))
	}
	if p.FirstPaid != 0 && p.LastPaid > p.FirstPaid {
		res.PaidPerSecond = perSecond(res.Paid, time.Duration(p.LastPaid-p.FirstPaid))
	}
	return res
}
