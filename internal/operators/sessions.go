package operators

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/foyerhq/foyer/internal/auditlog"
	"github.com/foyerhq/foyer/internal/pgtx"
)

// SessionPrefix starts every session token, so that the transport tells it
// from the admin token, and a leaked one is easy to spot.
const SessionPrefix = "fo_"

// sessionTokenLen is a token's length: the prefix and 32 random bytes in
// base64url.
var sessionTokenLen = len(SessionPrefix) + base64.RawURLEncoding.EncodedLen(32)

// Session is a sign-in: Token is shown this once, and only its hash kept.
type Session struct {
	Token     string    `json:"token"`
	Operator  Operator  `json:"operator"`
	ExpiresAt time.Time `json:"expires_at"` // at the latest; idle for SessionIdle ends it sooner
}

// Actor is how the audit log names an operator.
func Actor(username string) string { return "operator:" + username }

// Login checks a username and password and starts a session. Every refusal
// is ErrLoginFailed, and takes about as long whatever its reason (a
// password is hashed even for an unknown account); it changes nothing. A
// sign-in is audited (operator_login), and past MaxSessions it ends the
// account's oldest session.
func (s *Store) Login(ctx context.Context, username, password string) (Session, error) {
	username = NormalUsername(username)
	var acct struct {
		Operator
		Hash string `db:"password_hash"`
	}
	err := s.db.GetContext(ctx, &acct, `SELECT username, role, created_at, disabled_at, password_hash
		FROM operators WHERE username = $1`, username)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		acct.Hash = s.dummyHash() // as long as a known account's check, then refused
		acct.Username = ""
	case err != nil:
		return Session{}, fmt.Errorf("look up operator: %w", err)
	}
	if len(password) > 4*MaxPasswordLen {
		password = password[:4*MaxPasswordLen] // refused below all the same; only the hash's input is bounded
		acct.Username = ""
	}
	ok, err := s.matches(ctx, acct.Hash, password)
	if err != nil {
		return Session{}, fmt.Errorf("check operator password: %w", err)
	}
	if !ok || acct.Username == "" || acct.DisabledAt != nil {
		return Session{}, ErrLoginFailed
	}
	now := s.Now()
	token := SessionPrefix + base64.RawURLEncoding.EncodeToString(randomBytes(32))
	hash := sha256.Sum256([]byte(token))
	sess := Session{Token: token, Operator: acct.Operator, ExpiresAt: now.Add(SessionMax)}
	err = pgtx.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		// Holds off a disable or a password reset of the account until this
		// sign-in is in, so that theirs ends it too.
		var live bool
		if err := tx.GetContext(ctx, &live, `SELECT disabled_at IS NULL FROM operators WHERE username = $1 FOR SHARE`,
			username); err != nil || !live {
			return errors.Join(err, ErrLoginFailed)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM operator_sessions WHERE username = $1 AND token_hash IN (
				SELECT token_hash FROM operator_sessions WHERE username = $1
				ORDER BY (expires_at <= $2 OR last_seen_at <= $3), created_at DESC OFFSET $4)`,
			username, now, now.Add(-SessionIdle), MaxSessions-1); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO operator_sessions (token_hash, username, created_at, last_seen_at, expires_at)
			VALUES ($1, $2, $3, $3, $4)`, hash[:], username, now, sess.ExpiresAt); err != nil {
			return err
		}
		return auditlog.AppendJSON(ctx, tx, "", "operator_login", Actor(username), map[string]any{"username": username})
	})
	if errors.Is(err, ErrLoginFailed) {
		return Session{}, ErrLoginFailed
	}
	if err != nil {
		return Session{}, fmt.Errorf("start a session of %s: %w", username, err)
	}
	return sess, nil
}

// dummyHash is a hash of nothing, at the store's cost, for a sign-in to an
// unknown account to check against.
func (s *Store) dummyHash() string {
	zero := base64.RawStdEncoding.EncodeToString(make([]byte, hashLen))
	return fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$%s$%s", s.Cost.MemoryKiB, s.Cost.Passes, s.Cost.Threads, zero, zero)
}

// Authenticate gives the operator whose live session token is, and marks
// the session used. A token unknown, ended, idle past SessionIdle or older
// than SessionMax, or of a disabled account, is ErrSessionInvalid. The role
// is read each time: a changed role applies to the next request.
func (s *Store) Authenticate(ctx context.Context, token string) (Operator, error) {
	if !strings.HasPrefix(token, SessionPrefix) || len(token) != sessionTokenLen {
		return Operator{}, ErrSessionInvalid
	}
	hash := sha256.Sum256([]byte(token))
	now := s.Now()
	var op Operator
	// The session's use is written at most once a minute (touchEvery): the
	// live feed checks its session every second.
	err := s.db.GetContext(ctx, &op, `WITH live AS (
			SELECT s.token_hash, s.last_seen_at, o.username, o.role, o.created_at, o.disabled_at
			FROM operator_sessions s JOIN operators o ON o.username = s.username
			WHERE s.token_hash = $1 AND o.disabled_at IS NULL AND s.expires_at > $2 AND s.last_seen_at > $3
		), touched AS (
			UPDATE operator_sessions SET last_seen_at = $2
			WHERE token_hash IN (SELECT token_hash FROM live WHERE last_seen_at <= $4)
		) SELECT username, role, created_at, disabled_at FROM live`, hash[:], now, now.Add(-SessionIdle), now.Add(-touchEvery))
	if errors.Is(err, sql.ErrNoRows) {
		return Operator{}, ErrSessionInvalid
	}
	if err != nil {
		return Operator{}, fmt.Errorf("check operator session: %w", err)
	}
	return op, nil
}

// touchEvery is how stale a session's last use may be before a use writes
// it again: the idle bound (2 h) is kept to within a minute.
const touchEvery = time.Minute

// Logout ends the session of token; an unknown or ended one is no error.
func (s *Store) Logout(ctx context.Context, token string) error {
	hash := sha256.Sum256([]byte(token))
	if _, err := s.db.ExecContext(ctx, `DELETE FROM operator_sessions WHERE token_hash = $1`, hash[:]); err != nil {
		return fmt.Errorf("end operator session: %w", err)
	}
	return nil
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24)
	return b
}
