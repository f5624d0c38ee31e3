package webhooks

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"net/http"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/foyerhq/foyer/internal/clock"
)

// Config tunes the dispatcher. Zero fields take their defaults.
type Config struct {
	// RetryBase bounds the first retry's delay; each later bound doubles,
	// up to RetryMaxDelay, and the delay is drawn at random below it (full
	// jitter: endpoints coming back are not hit by every retry at once).
	// Defaults to 5s.
	RetryBase time.Duration
	// RetryMaxDelay caps the bound of one delay. Defaults to 1h.
	RetryMaxDelay time.Duration
	// MaxAge is how long a delivery is retried after its first attempt
	// (not after it was made: one may wait long behind an earlier one of
	// its order); one whose next attempt would come later is dead.
	// Defaults to 24h.
	MaxAge time.Duration
	// Timeout bounds one attempt, connection to last byte read. Defaults to 10s.
	Timeout time.Duration
	// Poll is how often an idle lane looks for due deliveries, and how
	// often the dispatcher looks for endpoints made or deleted. Defaults to 500ms.
	Poll time.Duration
	// InFlight bounds the deliveries one endpoint has in flight at once,
	// each of a different order (or sale). Defaults to 8.
	InFlight int
	// AllowPrivate lets deliveries go to loopback and private addresses
	// (dial.go). Defaults to off.
	AllowPrivate bool
	// Retention is how long delivered and dead deliveries, and events no
	// delivery names, are kept before Prune deletes them. Defaults to
	// DefaultRetention.
	Retention time.Duration
	// PruneEvery is how often the dispatcher prunes. Defaults to 1h.
	PruneEvery time.Duration

	// leaseFor and renewMargin shape a lane's lease (lanelease.go): its
	// length, defaulting to 2 × Timeout + 30s, and how long before its end
	// past Timeout it is renewed, defaulting to laneRenewMargin. Only tests
	// shorten them, to see a renewal without waiting half a minute.
	leaseFor, renewMargin time.Duration
}

// MinPoll and MaxPoll bound Config.Poll as the worker reads it
// (FOYER_WEBHOOK_POLL): shorter, idle lanes would query Postgres hundreds of
// times a second; longer, retries, new deliveries and new endpoints would
// wait that long to be seen.
const (
	MinPoll = 10 * time.Millisecond
	MaxPoll = 10 * time.Second
)

func (c Config) withDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.RetryBase, 5*time.Second)
	def(&c.RetryMaxDelay, time.Hour)
	def(&c.MaxAge, 24*time.Hour)
	def(&c.Timeout, 10*time.Second)
	def(&c.Poll, 500*time.Millisecond)
	def(&c.Retention, DefaultRetention)
	def(&c.PruneEvery, time.Hour)
	def(&c.leaseFor, 2*c.Timeout+30*time.Second)
	def(&c.renewMargin, laneRenewMargin)
	if c.InFlight <= 0 {
		c.InFlight = 8
	}
	return c
}

// Dispatcher sends the pending deliveries: one lane (goroutine) per
// endpoint, so a slow or dead endpoint holds up only its own. Several
// dispatchers (one per worker process) may run over one database: each
// endpoint is worked by one of them at a time, the one holding its lane's
// lease (webhook_lanes, lanelease.go), which starts an attempt only while
// the lease outlasts it, and records its outcome only while it still holds
// it; so no two send one delivery at once, and a dispatcher that dies
// leaves the endpoint to another once the lease ends.
type Dispatcher struct {
	db     *sqlx.DB
	cfg    Config
	client *http.Client
	log    *slog.Logger
	owner  string // this dispatcher's name on the lanes it holds
}

// NewDispatcher returns a dispatcher over db.
func NewDispatcher(db *sqlx.DB, cfg Config, log *slog.Logger) *Dispatcher {
	cfg = cfg.withDefaults()
	return &Dispatcher{db: db, cfg: cfg, client: newClient(cfg.Timeout, cfg.AllowPrivate, cfg.InFlight), log: log,
		owner: rand.Text()}
}

// target is what a lane needs of its endpoint. An endpoint is never
// changed, only made and deleted, so a lane reads it once.
type target struct {
	ID     string `db:"id"`
	URL    string `db:"url"`
	Secret string `db:"secret"`
}

type lane struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// Run sends deliveries until ctx ends, then waits for its lanes (an
// attempt in flight is cut short, and sent again later: at least once),
// and closes the connections it kept open to endpoints.
func (d *Dispatcher) Run(ctx context.Context) error {
	lanes := map[string]*lane{}
	defer func() {
		for _, l := range lanes {
			l.cancel()
		}
		for _, l := range lanes {
			<-l.done
		}
		// The last thing: no lane is left to open one again.
		d.client.CloseIdleConnections()
	}()
	refresh := func(ctx context.Context) {
		var targets []target
		if err := d.db.SelectContext(ctx, &targets, `SELECT id, url, secret FROM webhook_endpoints`); err != nil {
			if ctx.Err() == nil {
				d.log.Warn("webhooks: cannot list endpoints; trying again", "err", err)
			}
			return
		}
		seen := map[string]bool{}
		for _, t := range targets {
			seen[t.ID] = true
			if lanes[t.ID] != nil {
				continue
			}
			lctx, cancel := context.WithCancel(ctx)
			l := &lane{cancel: cancel, done: make(chan struct{})}
			lanes[t.ID] = l
			go func() {
				defer close(l.done)
				d.runLane(lctx, t)
			}()
		}
		for id, l := range lanes {
			if !seen[id] { // deleted: its deliveries went with it
				l.cancel()
				<-l.done
				delete(lanes, id)
			}
		}
	}
	pruned := make(chan struct{})
	go func() { // ends with ctx
		defer close(pruned)
		d.prune(ctx)
		clock.Every(ctx, d.cfg.PruneEvery, d.prune)
	}()
	defer func() { <-pruned }()
	refresh(ctx)
	clock.Every(ctx, d.cfg.Poll, refresh)
	return nil
}

// claimed is a delivery a lane has taken to send.
type claimed struct {
	ID        int64  `db:"id"`
	Attempts  int    `db:"attempts"`
	EventID   string `db:"event_id"`
	EventType string `db:"event_type"`
	Body      string `db:"body"`
}

// claimSQL reads up to $2 due deliveries of endpoint $1, each the first
// pending one of its ordering key, leaving out those the lane has in
// flight ($3). It only reads: the lane's lease keeps every other
// dispatcher off the endpoint. It finds them by
// webhook_deliveries_pending_by_id (migration 00014), not by walking the
// endpoint's delivered rows.
const claimSQL = `
SELECT d.id, d.attempts, ev.id AS event_id, ev.type AS event_type, ev.body
FROM webhook_deliveries d JOIN webhook_events ev ON ev.seq = d.event_seq
WHERE d.endpoint_id = $1 AND d.status = 'pending' AND d.next_attempt_at <= now() AND d.id <> ALL($3::bigint[])
AND NOT EXISTS (SELECT 1 FROM webhook_deliveries p WHERE p.endpoint_id = d.endpoint_id
	AND p.ordering_key = d.ordering_key AND p.status = 'pending' AND p.id < d.id)
ORDER BY d.id LIMIT $2`

func (d *Dispatcher) claim(ctx context.Context, st *statements, endpointID string, most int, flying []int64) ([]claimed, error) {
	var out []claimed
	if err := st.claim.SelectContext(ctx, &out, endpointID, most, pq.Array(flying)); err != nil {
		return nil, fmt.Errorf("claim deliveries of webhook endpoint %s: %w", endpointID, err)
	}
	return out, nil
}

// retryDelay is the delay before the attempt after the n-th failed one:
// drawn at random up to min(RetryMaxDelay, RetryBase × 2^(n-1)).
func (c Config) retryDelay(n int) time.Duration {
	bound := c.RetryBase
	for i := 1; i < n && bound < c.RetryMaxDelay; i++ {
		bound *= 2
	}
	bound = min(bound, c.RetryMaxDelay)
	return time.Duration(mrand.Int64N(int64(bound) + 1))
}
