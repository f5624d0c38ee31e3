// Package operators keeps the people who run Foyer: operator accounts, each
// with a role (viewer, operator, admin) and a password of which only an
// argon2id hash is kept, and their sessions, which end when idle or old,
// at logout, and when the account is disabled or its password reset. Every
// change to an account, and every sign-in, is written to the audit log
// (admin_actions) in the transaction of the change; a refused sign-in
// changes nothing.
package operators

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"
)

// Role is what an operator may do. Each role may do what the ones below it
// may: a viewer reads, an operator also runs sales, an admin also manages
// accounts, shop keys, webhooks and the blocklist (docs/operators.md).
type Role string

// The roles, lowest first.
const (
	RoleViewer   Role = "viewer"
	RoleOperator Role = "operator"
	RoleAdmin    Role = "admin"
)

var roleRank = map[Role]int{RoleViewer: 1, RoleOperator: 2, RoleAdmin: 3}

// Valid reports whether r is one of the roles.
func (r Role) Valid() bool { return roleRank[r] > 0 }

// AtLeast reports whether r may do what least may. An invalid role may
// do nothing.
func (r Role) AtLeast(least Role) bool { return r.Valid() && roleRank[r] >= roleRank[least] }

// Bounds of an account and its sessions.
const (
	// MinUsernameLen and MaxUsernameLen bound a username, in characters:
	// long enough for an e-mail address, short enough to show in a list.
	MinUsernameLen = 3
	MaxUsernameLen = 64
	// MinPasswordLen and MaxPasswordLen bound a password, in characters
	// (NIST SP 800-63B: at least 8, allow at least 64; 12 here). The
	// upper bound keeps a login's body small.
	MinPasswordLen = 12
	MaxPasswordLen = 128
	// MaxOperators bounds the accounts, disabled ones included.
	MaxOperators = 1000
	// MaxSessions bounds an account's live sessions: a new sign-in past it
	// ends the oldest.
	MaxSessions = 10
	// SessionIdle ends a session unused this long; SessionMax ends any
	// session this old, used or not (a working day).
	SessionIdle = 2 * time.Hour
	SessionMax  = 12 * time.Hour
)

// Sentinels a caller decides on (server/errors.go maps them).
var (
	// ErrLoginFailed is a sign-in refused: unknown user, wrong password or
	// disabled account alike, so that a guesser learns nothing.
	ErrLoginFailed = errors.New("login failed: wrong username or password, or the account is disabled")
	// ErrSessionInvalid is a session token unknown, ended or expired.
	ErrSessionInvalid = errors.New("operator session invalid or expired: sign in again")
	// ErrBadRequest is an account asked for with a bad username, password
	// or role.
	ErrBadRequest = errors.New("operator request invalid")
	// ErrNotFound is a username that names no account.
	ErrNotFound = errors.New("operator unknown")
	// ErrExists is a username already taken.
	ErrExists = errors.New("operator exists already")
	// ErrTooMany is an account past MaxOperators.
	ErrTooMany = errors.New("operator limit reached")
)

// Operator is an account as listed: never its password hash.
type Operator struct {
	Username   string     `json:"username" db:"username"`
	Role       Role       `json:"role" db:"role"`
	CreatedAt  time.Time  `json:"created_at" db:"created_at"`
	DisabledAt *time.Time `json:"disabled_at" db:"disabled_at"`
}

// Store keeps accounts and sessions in Postgres.
type Store struct {
	db *sqlx.DB
	// Now is the clock sessions are timed by; tests move it. Defaults to
	// time.Now.
	Now func() time.Time
	// Cost is the argon2id cost of new password hashes. Defaults to
	// DefaultCost.
	Cost Cost
	// hashing bounds the hashes computed at once: each takes Cost.MemoryKiB
	// of memory, and a burst of sign-ins must not take the node's.
	hashing chan struct{}
}

// maxHashing is how many passwords are hashed at once per node: the
// machine's cores are busy enough by then.
const maxHashing = 4

// New keeps accounts in db.
func New(db *sqlx.DB) *Store {
	return &Store{db: db, Now: time.Now, Cost: DefaultCost, hashing: make(chan struct{}, maxHashing)}
}

// NormalUsername is a username as stored: usernames are case-insensitive.
func NormalUsername(name string) string { return strings.ToLower(strings.TrimSpace(name)) }

// CheckUsername tells why name cannot be a username (ErrBadRequest): 3 to
// 64 of a-z, 0-9 and . _ @ + - (an e-mail address fits), after
// NormalUsername.
func CheckUsername(name string) error {
	n := utf8.RuneCountInString(name)
	if n < MinUsernameLen || n > MaxUsernameLen {
		return fmt.Errorf("%w: a username has %d to %d characters", ErrBadRequest, MinUsernameLen, MaxUsernameLen)
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || strings.ContainsRune("._@+-", r)) {
			return fmt.Errorf("%w: a username holds only a-z, 0-9 and . _ @ + -", ErrBadRequest)
		}
	}
	return nil
}

// CheckPassword tells why password cannot be one (ErrBadRequest).
func CheckPassword(password string) error {
	if !utf8.ValidString(password) {
		return fmt.Errorf("%w: a password must be UTF-8", ErrBadRequest)
	}
	if n := utf8.RuneCountInString(password); n < MinPasswordLen || n > MaxPasswordLen {
		return fmt.Errorf("%w: a password has %d to %d characters", ErrBadRequest, MinPasswordLen, MaxPasswordLen)
	}
	return nil
}

// CheckRole tells why r is no role (ErrBadRequest).
func CheckRole(r Role) error {
	if !r.Valid() {
		return fmt.Errorf("%w: role %q is none of viewer, operator, admin", ErrBadRequest, r)
	}
	return nil
}
