// Package shopkeys keeps the shop's API keys: what a shop's backend presents
// to call Foyer server to server (read orders, redeem reservations, manage
// webhooks). A key is shown once, when it is made; Postgres keeps only the
// SHA-256 of its secret, so neither a copy of the database nor the admin API
// can give a key back. Every creation, revocation and use is written to the
// audit log (admin_actions).
package shopkeys

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
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

// The scopes a key may have: each later endpoint asks for one.
const (
	ScopeRedeem   = "redeem"
	ScopeOrders   = "orders"
	ScopeWebhooks = "webhooks"
)

// Scopes are every scope there is.
var scopes = []string{ScopeRedeem, ScopeOrders, ScopeWebhooks}

// MaxNameLen bounds a key's name, in characters.
const MaxNameLen = 100

// Sentinels a caller decides on (server/errors.go maps them).
var (
	// ErrInvalid is a key that is malformed, unknown, revoked or whose
	// secret does not match: the caller is told no more than that.
	ErrInvalid = errors.New("shop key invalid: unknown, revoked or malformed")
	// ErrScope is a good key without the scope the endpoint needs.
	ErrScope = errors.New("shop key lacks the scope this endpoint needs")
	// ErrBadRequest is a key asked for with a bad name or scopes.
	ErrBadRequest = errors.New("shop key request invalid")
	// ErrNotFound is a key id that names no key.
	ErrNotFound = errors.New("shop key unknown")
)

// prefix starts every key, so a leaked one is easy to spot (secret scanners).
const prefix = "fk_"

// Key is a key as listed: never its secret.
type Key struct {
	ID         string     `json:"id" db:"id"`
	Name       string     `json:"name" db:"name"`
	Scopes     []string   `json:"scopes" db:"-"`
	CreatedAt  time.Time  `json:"created_at" db:"created_at"`
	RevokedAt  *time.Time `json:"revoked_at" db:"revoked_at"`
	LastUsedAt *time.Time `json:"last_used_at" db:"last_used_at"`
}

// Created is a key just made: Secret is the whole key, shown this once.
type Created struct {
	Key
	Secret string `json:"key"`
}

// Store keeps keys in Postgres.
type Store struct{ db *sqlx.DB }

// New keeps keys in db.
func New(db *sqlx.DB) *Store { return &Store{db: db} }

// row is a key as Postgres holds it.
type row struct {
	Key
	ScopeList  pq.StringArray `db:"scopes"`
	SecretHash []byte         `db:"secret_hash"`
}

func (r row) key() Key {
	k := r.Key
	k.Scopes = []string(r.ScopeList)
	return k
}

const columns = `id, name, scopes, secret_hash, created_at, revoked_at, last_used_at`

// Check tells why a name and scopes cannot make a key (ErrBadRequest), and
// gives the scopes sorted and without repeats.
func Check(name string, want []string) ([]string, error) {
	switch {
	case strings.TrimSpace(name) == "":
		return nil, fmt.Errorf("%w: a name is needed", ErrBadRequest)
	case !utf8.ValidString(name) || utf8.RuneCountInString(name) > MaxNameLen:
		return nil, fmt.Errorf("%w: the name must be UTF-8 of at most %d characters", ErrBadRequest, MaxNameLen)
	// Format characters too (Cf: bidi overrides, zero-width ones): a name
	// is shown to operators, and must read as what it is.
	case strings.IndexFunc(name, func(r rune) bool { return unicode.In(r, unicode.Cc, unicode.Cf) }) >= 0:
		return nil, fmt.Errorf("%w: the name holds a control or format character", ErrBadRequest)
	case len(want) == 0:
		return nil, fmt.Errorf("%w: at least one scope is needed (%s)", ErrBadRequest, strings.Join(scopes, ", "))
	}
	out := make([]string, 0, len(want))
	for _, s := range want {
		if !slices.Contains(scopes, s) {
			return nil, fmt.Errorf("%w: unknown scope %q (scopes are %s)", ErrBadRequest, s, strings.Join(scopes, ", "))
		}
		out = append(out, s)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// Create makes a key, and audits it in the same transaction: both or neither.
func (s *Store) Create(ctx context.Context, name string, want []string, actor string) (Created, error) {
	sc, err := Check(name, want)
	if err != nil {
		return Created{}, err
	}
	id, secret := randomID(), base64.RawURLEncoding.EncodeToString(randomBytes(32))
	hash := sha256.Sum256([]byte(secret))
	var r row
	err = pgtx.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		if err := tx.GetContext(ctx, &r, `INSERT INTO shop_keys (id, name, scopes, secret_hash)
			VALUES ($1, $2, $3, $4) RETURNING `+columns, id, name, pq.StringArray(sc), hash[:]); err != nil {
			return err
		}
		return auditlog.AppendJSON(ctx, tx, "", "shop_key_created", actor, map[string]any{"key_id": id, "name": name, "scopes": sc})
	})
	if err != nil {
		return Created{}, fmt.Errorf("create shop key: %w", err)
	}
	return Created{Key: r.key(), Secret: prefix + id + "_" + secret}, nil
}

// List gives every key, newest first, without secrets.
func (s *Store) List(ctx context.Context) ([]Key, error) {
	var rows []row
	if err := s.db.SelectContext(ctx, &rows, `SELECT `+columns+` FROM shop_keys ORDER BY created_at DESC, id`); err != nil {
		return nil, fmt.Errorf("list shop keys: %w", err)
	}
	keys := make([]Key, len(rows))
	for i, r := range rows {
		keys[i] = r.key()
	}
	return keys, nil
}

// Revoke ends a key for good. Revoking a revoked key changes nothing and
// writes no second audit row; an unknown id is ErrNotFound.
func (s *Store) Revoke(ctx context.Context, id, actor string) (Key, error) {
	var r row
	err := pgtx.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		err := tx.GetContext(ctx, &r, `SELECT `+columns+` FROM shop_keys WHERE id = $1 FOR UPDATE`, id)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil || r.RevokedAt != nil {
			return err
		}
		if err := tx.GetContext(ctx, &r, `UPDATE shop_keys SET revoked_at = now() WHERE id = $1 RETURNING `+columns, id); err != nil {
			return err
		}
		return auditlog.AppendJSON(ctx, tx, "", "shop_key_revoked", actor, map[string]any{"key_id": id})
	})
	if err != nil {
		return Key{}, fmt.Errorf("revoke shop key %q: %w", id, err)
	}
	return r.key(), nil
}

// Authenticate checks a presented key and that it has scope. It writes
// nothing: a request is recorded (RecordUse) only once it was answered
// well, so neither a refused key nor a refused request changes anything.
func (s *Store) Authenticate(ctx context.Context, presented, scope string) (Key, error) {
	id, secret, ok := split(presented)
	if !ok {
		return Key{}, ErrInvalid
	}
	var r row
	err := s.db.GetContext(ctx, &r, `SELECT `+columns+` FROM shop_keys WHERE id = $1`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return Key{}, ErrInvalid
	}
	if err != nil {
		return Key{}, fmt.Errorf("look up shop key: %w", err)
	}
	hash := sha256.Sum256([]byte(secret))
	if subtle.ConstantTimeCompare(hash[:], r.SecretHash) != 1 || r.RevokedAt != nil {
		return Key{}, ErrInvalid
	}
	if !slices.Contains(r.ScopeList, scope) {
		return Key{}, fmt.Errorf("%w: %s", ErrScope, scope)
	}
	return r.key(), nil
}

// RecordUse records a use of the key with scope that was answered well:
// its last_used_at and an audit row shop_key_used, in one statement, so
// both or neither. (A key revoked while its request ran is recorded too:
// it was used.)
func (s *Store) RecordUse(ctx context.Context, keyID, scope string) error {
	detail, _ := json.Marshal(map[string]string{"key_id": keyID, "scope": scope}) //nolint:errchkjson // strings only
	_, err := s.db.ExecContext(ctx, `WITH k AS (
			UPDATE shop_keys SET last_used_at = now() WHERE id = $1 RETURNING id
		) INSERT INTO admin_actions (sale_id, action, detail, actor)
		SELECT NULL, 'shop_key_used', $2::jsonb, 'shop_key:' || id FROM k`, keyID, string(detail))
	if err != nil {
		return fmt.Errorf("record a use of shop key %s: %w", keyID, err)
	}
	return nil
}

// split reads fk_<id>_<secret>. The id is hex, so the first '_' after the
// prefix ends it; the secret (base64url) may hold '_' itself.
func split(presented string) (id, secret string, ok bool) {
	rest, ok := strings.CutPrefix(presented, prefix)
	if !ok || len(presented) > 200 {
		return "", "", false
	}
	id, secret, ok = strings.Cut(rest, "_")
	if !ok || len(id) != idLen || secret == "" {
		return "", "", false
	}
	return id, secret, true
}

// idLen is the length of a key's id: 6 random bytes in hex. Short, since
// it is shown in lists and logs; its secret is what must not be guessed.
const idLen = 12

func randomID() string { return hex.EncodeToString(randomBytes(idLen / 2)) }

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24)
	return b
}
