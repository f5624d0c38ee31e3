package webhooks

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/foyerhq/foyer/internal/auditlog"
	"github.com/foyerhq/foyer/internal/pgtx"
)

// Sentinels a caller decides on (server/errors.go maps them).
var (
	// ErrBadRequest is an endpoint, redelivery or replay asked for with
	// something wrong in it: nothing changed.
	ErrBadRequest = errors.New("webhook request invalid")
	// ErrBadQuery is a delivery log query whose status, limit or cursor
	// cannot be read: nothing was read.
	ErrBadQuery = errors.New("bad delivery log query")
	// ErrNotFound is an endpoint id that names no endpoint.
	ErrNotFound = errors.New("webhook endpoint unknown")
	// ErrDeliveryNotFound is a delivery id that names no delivery of the
	// endpoint.
	ErrDeliveryNotFound = errors.New("webhook delivery unknown")
	// ErrTooMany is one endpoint more than MaxEndpoints.
	ErrTooMany = errors.New("too many webhook endpoints")
)

// Bounds of an endpoint.
const (
	MaxURLLen         = 500
	MaxDescriptionLen = 200
	// MaxEndpoints bounds how many endpoints there may be: every event is
	// written once per endpoint that wants it, in the order's transaction.
	MaxEndpoints = 16
)

// secretPrefix starts every endpoint secret, so a leaked one is easy to spot.
const secretPrefix = "whsec_"

// Endpoint is an endpoint as listed: never its secret.
type Endpoint struct {
	ID          string    `json:"id" db:"id"`
	URL         string    `json:"url" db:"url"`
	Description string    `json:"description" db:"description"`
	Events      []string  `json:"events" db:"-"`
	CreatedAt   time.Time `json:"created_at" db:"created_at"`
	// Pending and Dead count its deliveries waiting and given up on.
	Pending int `json:"pending" db:"pending"`
	Dead    int `json:"dead" db:"dead"`
}

// Created is an endpoint just made: Secret signs its deliveries, shown this once.
type Created struct {
	Endpoint
	Secret string `json:"secret"`
}

// NewEndpoint is what an endpoint is made from.
type NewEndpoint struct {
	URL         string   `json:"url"`
	Events      []string `json:"events"`
	Description string   `json:"description"`
}

// Store keeps endpoints and reads and changes their deliveries, each
// change audited in its own transaction.
type Store struct {
	db *sqlx.DB
	// AllowPrivate lets endpoints be on loopback and private addresses
	// (a shop on the same host or network). Off by default: see
	// AddressPolicy.
	AllowPrivate bool
	// Retention is how long events and finished deliveries are kept
	// (Dispatcher prunes older ones), so how far back a replay may reach.
	// Defaults to DefaultRetention.
	Retention time.Duration
	now       func() time.Time
}

func (s *Store) retention() time.Duration {
	if s.Retention <= 0 {
		return DefaultRetention
	}
	return s.Retention
}

// NewStore keeps endpoints in db.
func NewStore(db *sqlx.DB) *Store { return &Store{db: db, now: time.Now} }

type endpointRow struct {
	Endpoint
	EventList pq.StringArray `db:"events"`
}

const endpointColumns = `e.id, e.url, e.description, e.events, e.created_at,
	(SELECT count(*) FROM webhook_deliveries d WHERE d.endpoint_id = e.id AND d.status = 'pending') AS pending,
	(SELECT count(*) FROM webhook_deliveries d WHERE d.endpoint_id = e.id AND d.status = 'dead') AS dead`

func (r endpointRow) endpoint() Endpoint {
	e := r.Endpoint
	e.Events = []string(r.EventList)
	return e
}

// Check tells why an endpoint cannot be made (ErrBadRequest), and gives
// its event types sorted and without repeats.
func (s *Store) Check(n NewEndpoint) ([]string, error) {
	if err := checkURL(n.URL, s.AllowPrivate); err != nil {
		return nil, err
	}
	if !utf8.ValidString(n.Description) || utf8.RuneCountInString(n.Description) > MaxDescriptionLen ||
		strings.IndexFunc(n.Description, func(r rune) bool { return unicode.In(r, unicode.Cc, unicode.Cf) }) >= 0 {
		return nil, fmt.Errorf("%w: the description must be at most %d characters, none a control or format one",
			ErrBadRequest, MaxDescriptionLen)
	}
	if len(n.Events) == 0 || len(n.Events) > 2*len(EventTypes) {
		return nil, fmt.Errorf("%w: events must list some of %s", ErrBadRequest, strings.Join(EventTypes, ", "))
	}
	out := make([]string, 0, len(n.Events))
	for _, t := range n.Events {
		if !slices.Contains(EventTypes, t) {
			return nil, fmt.Errorf("%w: unknown event type %q (types are %s)", ErrBadRequest, t, strings.Join(EventTypes, ", "))
		}
		out = append(out, t)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// checkURL refuses what cannot be an endpoint: not http(s), too long, with
// credentials or a fragment, and (unless allowPrivate) a host that is
// plainly local. Names are checked again when a delivery dials (dial.go):
// a name can resolve anywhere.
func checkURL(raw string, allowPrivate bool) error {
	if raw == "" || len(raw) > MaxURLLen || !utf8.ValidString(raw) ||
		strings.IndexFunc(raw, func(r rune) bool { return unicode.IsControl(r) || unicode.IsSpace(r) }) >= 0 {
		return fmt.Errorf("%w: url must be an http or https URL of at most %d bytes, without spaces", ErrBadRequest, MaxURLLen)
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Hostname() == "":
		return fmt.Errorf("%w: url must be an absolute http or https URL", ErrBadRequest)
	case u.User != nil:
		return fmt.Errorf("%w: url must not carry credentials (sign-in is the signature's job)", ErrBadRequest)
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return fmt.Errorf("%w: url must not have a fragment", ErrBadRequest)
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); ip != nil {
		if why := refusedAddress(ip, allowPrivate); why != "" {
			return fmt.Errorf("%w: url's address is %s", ErrBadRequest, why)
		}
	} else if !allowPrivate && (strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost")) {
		return fmt.Errorf("%w: url's address is loopback (set FOYER_WEBHOOK_ALLOW_PRIVATE for a shop on this host)", ErrBadRequest)
	}
	return nil
}

// Create makes an endpoint with a new secret, and audits it in the same
// transaction: both or neither.
func (s *Store) Create(ctx context.Context, n NewEndpoint, actor string) (Created, error) {
	events, err := s.Check(n)
	if err != nil {
		return Created{}, err
	}
	id, secret := "we_"+hex.EncodeToString(randomBytes(6)), secretPrefix+base64.RawURLEncoding.EncodeToString(randomBytes(32))
	var r endpointRow
	err = pgtx.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		// Serialises creations, so two at once cannot both pass the count.
		if _, err := tx.ExecContext(ctx, `LOCK TABLE webhook_endpoints IN SHARE ROW EXCLUSIVE MODE`); err != nil {
			return err
		}
		var count int
		if err := tx.GetContext(ctx, &count, `SELECT count(*) FROM webhook_endpoints`); err != nil {
			return err
		}
		if count >= MaxEndpoints {
			return fmt.Errorf("%w: at most %d; delete one first", ErrTooMany, MaxEndpoints)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO webhook_endpoints (id, url, description, events, secret)
			VALUES ($1, $2, $3, $4, $5)`, id, n.URL, n.Description, pq.StringArray(events), secret); err != nil {
			return err
		}
		if err := tx.GetContext(ctx, &r, `SELECT `+endpointColumns+` FROM webhook_endpoints e WHERE e.id = $1`, id); err != nil {
			return err
		}
		return auditlog.AppendJSON(ctx, tx, "", "webhook_created", actor, map[string]any{"endpoint_id": id, "url": n.URL, "events": events})
	})
	if err != nil {
		return Created{}, fmt.Errorf("create webhook endpoint: %w", err)
	}
	return Created{Endpoint: r.endpoint(), Secret: secret}, nil
}

// List gives every endpoint, oldest first, without secrets.
func (s *Store) List(ctx context.Context) ([]Endpoint, error) {
	var rows []endpointRow
	if err := s.db.SelectContext(ctx, &rows, `SELECT `+endpointColumns+` FROM webhook_endpoints e ORDER BY e.created_at, e.id`); err != nil {
		return nil, fmt.Errorf("list webhook endpoints: %w", err)
	}
	out := make([]Endpoint, len(rows))
	for i, r := range rows {
		out[i] = r.endpoint()
	}
	return out, nil
}

// Get gives one endpoint, or ErrNotFound.
func (s *Store) Get(ctx context.Context, id string) (Endpoint, error) {
	var r endpointRow
	err := s.db.GetContext(ctx, &r, `SELECT `+endpointColumns+` FROM webhook_endpoints e WHERE e.id = $1`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return Endpoint{}, fmt.Errorf("webhook endpoint %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return Endpoint{}, fmt.Errorf("read webhook endpoint %q: %w", id, err)
	}
	return r.endpoint(), nil
}

// Delete removes an endpoint and its delivery log; its pending deliveries
// are never sent. An unknown id is ErrNotFound.
func (s *Store) Delete(ctx context.Context, id, actor string) error {
	err := pgtx.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		var url string
		err := tx.GetContext(ctx, &url, `DELETE FROM webhook_endpoints WHERE id = $1 RETURNING url`, id)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		return auditlog.AppendJSON(ctx, tx, "", "webhook_deleted", actor, map[string]any{"endpoint_id": id, "url": url})
	})
	if err != nil {
		return fmt.Errorf("delete webhook endpoint %q: %w", id, err)
	}
	return nil
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24)
	return b
}
