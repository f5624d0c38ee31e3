package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/foyerhq/foyer/waitingroom"
)

// The public listing of sales, GET /v1/sales (docs/listing.md): what a
// shopper who arrives without a link sees on /sales. A crowd may poll it, so
// each node reads it from Redis and Postgres at most once per listingFresh
// and answers everyone from memory in between.
const (
	// listingPerState is the most sales listed in each state.
	listingPerState = 50
	// listingEndedFor is how long an ended sale stays listed after its end.
	listingEndedFor = 7 * 24 * time.Hour
	// listingCurrentRead is how many sales not yet past their end are read,
	// soonest start first: room for a full list of upcoming and of live
	// ones, and some stopped or sold out early.
	listingCurrentRead = 3 * listingPerState
	// listingFresh is how long a node answers from the listing it read,
	// and how long a cache on the way may keep an answer.
	listingFresh = 2 * time.Second
	// listingReadTimeout bounds one read of the listing. It is not the
	// request's: one read serves every request waiting on it.
	listingReadTimeout = 5 * time.Second
)

// The listing's states, each a group of the sale's phases.
const (
	listUpcoming = "upcoming" // scheduled or prequeue: a countdown to the start
	listLive     = "live"     // open or paused: shoppers may join
	listEnded    = "ended"    // sold out or ended
)

var listStates = []string{listUpcoming, listLive, listEnded}

// listedSale is all the listing tells of a sale: what its own public view
// (GET /v1/sales/{id}) tells too, and no operator setting.
type listedSale struct {
	ID         string            `json:"id"`
	Name       string            `json:"name"`
	State      string            `json:"state"` // upcoming, live or ended
	Phase      waitingroom.State `json:"phase"` // the sale's own state, within State
	PrequeueAt time.Time         `json:"prequeue_at"`
	StartsAt   time.Time         `json:"starts_at"`
	EndsAt     time.Time         `json:"ends_at"`
	PriceCents int64             `json:"price_cents"`
	Currency   string            `json:"currency"`
	// StockLeft is how many units are neither held nor sold; null for an
	// ended sale Redis no longer holds.
	StockLeft *int64 `json:"stock_left"`
}

// listingAnswer is the body of GET /v1/sales.
type listingAnswer struct {
	Sales []listedSale `json:"sales"`
	// Truncated is whether a state asked for had more sales than
	// listingPerState.
	Truncated bool `json:"truncated"`
}

// listingSnapshot is one read of the listing, its answers encoded once for
// every set of states a request may ask for (a bit per listStates).
type listingSnapshot struct {
	encoded [1 << 3][]byte
}

// saleListing is a node's cache of the listing. Concurrent requests that
// find it stale wait for the one read already under way rather than each
// make their own.
type saleListing struct {
	read  func(ctx context.Context) (*listingSnapshot, error)
	reads prometheus.Counter

	mu      sync.Mutex
	snap    *listingSnapshot
	readAt  time.Time
	pending *listingRead // the read under way, if any
}

// listingRead is a read under way: done closes when snap or err is set.
type listingRead struct {
	done chan struct{}
	snap *listingSnapshot
	err  error
}

// get returns a snapshot younger than listingFresh, reading one when there
// is none. The lock guards the fields only: the read runs outside it.
func (l *saleListing) get(ctx context.Context) (*listingSnapshot, error) {
	l.mu.Lock()
	if l.snap != nil && time.Since(l.readAt) < listingFresh {
		snap := l.snap
		l.mu.Unlock()
		return snap, nil
	}
	r := l.pending
	if r == nil {
		r = &listingRead{done: make(chan struct{})}
		l.pending = r
		// Owned by the read, not a request: a request that goes away does
		// not fail the others waiting on it.
		go l.refresh(context.WithoutCancel(ctx), r)
	}
	l.mu.Unlock()
	select {
	case <-r.done:
		return r.snap, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (l *saleListing) refresh(ctx context.Context, r *listingRead) {
	ctx, cancel := context.WithTimeout(ctx, listingReadTimeout)
	defer cancel()
	started := time.Now()
	l.reads.Inc()
	r.snap, r.err = l.read(ctx)
	l.mu.Lock()
	if r.err == nil {
		l.snap, l.readAt = r.snap, started
	}
	l.pending = nil
	l.mu.Unlock()
	close(r.done)
}

// listSalesHandler serves GET /v1/sales?state=upcoming,live,ended from a
// listing of its own, read at most once per listingFresh.
func (s *Server) listSalesHandler() gin.HandlerFunc {
	l := &saleListing{read: s.readListing, reads: prometheus.NewCounter(prometheus.CounterOpts{
		Name: "foyer_sale_listing_reads_total",
		Help: "Reads of the public listing of sales from Redis and Postgres; every other request is answered from the node's memory.",
	})}
	s.metrics.registry.MustRegister(l.reads)
	return func(c *gin.Context) {
		set, err := parseListStates(c.QueryArray("state"))
		if err != nil {
			s.fail(c, err)
			return
		}
		snap, err := l.get(c.Request.Context())
		if err != nil {
			s.fail(c, err)
			return
		}
		c.Header("Cache-Control", fmt.Sprintf("public, max-age=%d", int(listingFresh/time.Second)))
		c.Data(http.StatusOK, "application/json; charset=utf-8", snap.encoded[set])
	}
}

// parseListStates reads the state query parameter: one comma-separated list
// of listStates, each at most once; none asks for all three.
func parseListStates(values []string) (int, error) {
	if len(values) == 0 {
		return 1<<len(listStates) - 1, nil
	}
	bad := fmt.Errorf("%w: state must be one or more of upcoming, live and ended, comma separated, given once", errBadRequest)
	if len(values) > 1 {
		return 0, bad
	}
	set := 0
	for _, name := range strings.Split(values[0], ",") {
		i := slices.Index(listStates, name)
		if i < 0 || set&(1<<i) != 0 {
			return 0, bad
		}
		set |= 1 << i
	}
	return set, nil
}

// readListing reads the listable sales' plans from Postgres and their live
// state from Redis, in one round trip each, and groups them.
func (s *Server) readListing(ctx context.Context) (*listingSnapshot, error) {
	now := time.Now()
	plans, err := s.deps.Operator.Listable(ctx, now, waitingroom.ListingBounds{
		Current: listingCurrentRead, Ended: listingPerState, EndedSince: now.Add(-listingEndedFor)})
	if err != nil {
		return nil, fmt.Errorf("read the listing: %w", err)
	}
	ids := make([]string, len(plans))
	for i := range plans {
		ids[i] = plans[i].ID
	}
	live, err := s.deps.Rooms.Statuses(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("read the listing: %w", err)
	}
	groups := make([][]listedSale, len(listStates))
	for i := range plans {
		if sale, ok := listed(&plans[i], live, now); ok {
			g := slices.Index(listStates, sale.State)
			groups[g] = append(groups[g], sale)
		}
	}
	// Upcoming and live soonest start first (as read); ended latest end first.
	slices.SortStableFunc(groups[2], func(a, b listedSale) int { return b.EndsAt.Compare(a.EndsAt) })
	return encodeListing(groups)
}

// listed is a plan as the listing shows it, with its live state; false
// leaves out a sale not yet past its end that Redis does not hold (no
// shopper could join it).
func listed(p *waitingroom.Plan, live map[string]waitingroom.Status, now time.Time) (listedSale, bool) {
	sale := listedSale{ID: p.ID, Name: p.Name, PrequeueAt: p.PrequeueAt().UTC(), StartsAt: p.StartsAt.UTC(),
		EndsAt: p.EndsAt.UTC(), PriceCents: p.PriceCents, Currency: p.Currency}
	st, held := live[p.ID]
	switch {
	case held:
		sale.Phase = st.State
		left := st.Available
		sale.StockLeft = &left
	case now.Before(p.EndsAt):
		return listedSale{}, false
	default:
		sale.Phase = waitingroom.StateEnded
	}
	// Past its end a sale is over, whether or not its admitter has ticked
	// since to say so.
	if !now.Before(p.EndsAt) && sale.Phase != waitingroom.StateSoldOut {
		sale.Phase = waitingroom.StateEnded
	}
	switch sale.Phase {
	case waitingroom.StateScheduled, waitingroom.StatePrequeue:
		sale.State = listUpcoming
	case waitingroom.StateOpen, waitingroom.StatePaused:
		sale.State = listLive
	default:
		sale.State = listEnded
	}
	return sale, true
}

// encodeListing encodes the answer to every set of states once.
func encodeListing(groups [][]listedSale) (*listingSnapshot, error) {
	snap := &listingSnapshot{}
	for set := 1; set < len(snap.encoded); set++ {
		ans := listingAnswer{Sales: []listedSale{}}
		for g, sales := range groups {
			if set&(1<<g) == 0 {
				continue
			}
			ans.Truncated = ans.Truncated || len(sales) > listingPerState
			ans.Sales = append(ans.Sales, sales[:min(len(sales), listingPerState)]...)
		}
		b, err := json.Marshal(ans)
		if err != nil {
			return nil, fmt.Errorf("encode the listing: %w", err)
		}
		snap.encoded[set] = b
	}
	return snap, nil
}
