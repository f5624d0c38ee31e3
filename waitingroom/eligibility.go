package waitingroom

// Who may join a sale (docs/integration.md, "Who may join"). An invited sale
// admits a shopper whose customer id it lists, who is in one of its groups,
// or who brings an unused invite code; join.lua checks all three in Redis, in
// the join's own script, so a join never waits on Postgres. This file holds
// the rules of what an operator and a shopper may send; invitations.go
// keeps the lists.

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/foyerhq/foyer/internal/csvcell"
)

// Eligibility is who may join a sale.
type Eligibility string

const (
	EligibleEveryone Eligibility = "everyone" // every shopper, as before eligibility
	EligibleInvited  Eligibility = "invited"  // listed customers, members of the sale's groups, and invite codes
)

// EligibilityOf is the plan's eligibility, everyone when unset.
func (p *Plan) EligibilityOf() Eligibility {
	if p.Eligibility == "" {
		return EligibleEveryone
	}
	return p.Eligibility
}

// Errors a caller decides on.
var (
	// ErrNotEligible refuses a join to an invited sale from a shopper it
	// neither lists nor admits by group, and who brings no unused invite
	// code: nothing was written.
	ErrNotEligible = errors.New("not eligible")
	// ErrInvitationsInvalid refuses an invitee list, a group list or a
	// request for codes that breaks a bound: nothing was changed.
	ErrInvitationsInvalid = errors.New("invitations invalid")
)

// The refusals of join.lua, told apart in the message only: to the shopper
// both mean "not with this", and a shop's page needs one code to act on.
var (
	errNotInvited = fmt.Errorf("%w: this sale admits only the customers it invited, its groups' members and holders of an unused invite code", ErrNotEligible)
	errInviteUsed = fmt.Errorf("%w: this invite code was used already", ErrNotEligible)
)

// Bounds of a sale's invitations. The Redis copies are read by one SISMEMBER
// or HGET per join whatever their size; the bounds keep an upload, and the
// memory it takes, in proportion.
const (
	// MaxInvitees is the most customer ids one sale may list.
	MaxInvitees = 100_000
	// MaxCustomerIDLen bounds a listed customer id, in characters: the same
	// bound as an identity token's sub (identity.MaxCustomerIDLen).
	MaxCustomerIDLen = 128
	// MaxSaleGroups bounds the groups one sale admits; MaxGroupLen a group's
	// name, in characters (identity.MaxGroupLen).
	MaxSaleGroups = 100
	MaxGroupLen   = 64
	// MaxCodesPerRequest is the most invite codes made at once, and
	// MaxInviteCodes the most one sale may have.
	MaxCodesPerRequest = 10_000
	MaxInviteCodes     = 100_000
	// MaxInviteLen bounds an invite code a shopper sends, in bytes.
	MaxInviteLen = 64
	// MaxPassGroups bounds the session groups a join passes to join.lua: an
	// identity token carries at most as many (identity.MaxGroups).
	MaxPassGroups = 32
)

// Pass is what a shopper's join carries besides its shopper id: the groups
// its session carries and the invite code it sends, which an invited sale
// looks at (a sale open to everyone looks at neither), and the shop's
// customer id of a session made from the shop's identity token, which the
// join records for the customer's orders.
type Pass struct {
	Invite string   // an invite code, as the shopper typed it; empty: none
	Groups []string // the shop's groups from the customer's identity token
	// Customer is the identity token's sub (at most MaxCustomerIDLen
	// characters, as identity.MaxCustomerIDLen); empty for an anonymous
	// shopper.
	Customer string
}

// ValidInvite reports whether s could be an invite code: 1 to MaxInviteLen
// of [A-Za-z0-9-]. What else a shopper sends is refused before it reaches
// Redis.
func ValidInvite(s string) bool {
	if len(s) == 0 || len(s) > MaxInviteLen {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// inviteDigest is the SHA-256 of an invite code as Redis and Postgres keep
// it: of the code in capitals without its dashes, so a shopper who types it
// in small letters, or as the groups of four a shop may print, is let in.
func inviteDigest(code string) []byte {
	norm := strings.ToUpper(strings.ReplaceAll(code, "-", ""))
	sum := sha256.Sum256([]byte(norm))
	return sum[:]
}

// newInviteCode returns a fresh invite code: 26 characters of base32, 130
// random bits, so that guessing one is hopeless.
func newInviteCode() string { return rand.Text() }

// passArgs are the ARGV join.lua takes after the shopper and transaction:
// the customer id (empty for none), the invite's digest (hex; empty for
// none), then the session's groups.
func passArgs(pass Pass) []any {
	args := make([]any, 0, 2+min(len(pass.Groups), MaxPassGroups))
	digest := ""
	if pass.Invite != "" {
		digest = hex.EncodeToString(inviteDigest(pass.Invite))
	}
	args = append(args, pass.Customer, digest)
	for _, g := range pass.Groups[:min(len(pass.Groups), MaxPassGroups)] {
		args = append(args, g)
	}
	return args
}

// ParseInvitees reads an invitee list: CSV, one customer id per row in the
// first and only column, with an optional header customer_id. A customer
// listed twice is listed once, and a UTF-8 byte order mark at the start (a
// spreadsheet's export) is skipped (a shop's export may repeat one); dupes says
// how many rows were dropped so. A ' before =, +, - or @ goes (csvcell), so
// a list downloaded from InviteesCSV reads back as it was. Every other
// problem refuses the whole list, wrapped in ErrInvitationsInvalid, naming
// the first bad row.
func ParseInvitees(r io.Reader) (ids []string, dupes int, err error) {
	br := bufio.NewReader(r)
	if bom, _ := br.Peek(3); string(bom) == "\ufeff" {
		br.Discard(3) //nolint:errcheck // peeked: it is there
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = 1
	cr.ReuseRecord = true
	seen := make(map[string]struct{})
	for row := 1; ; row++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return ids, dupes, nil
		}
		if err != nil {
			return nil, 0, fmt.Errorf("%w: row %d is not one CSV field: %v", ErrInvitationsInvalid, row, err)
		}
		id := csvcell.Restore(rec[0])
		if row == 1 && id == "customer_id" {
			continue
		}
		if why := customerIDProblem(id); why != "" {
			return nil, 0, fmt.Errorf("%w: row %d: customer id %s", ErrInvitationsInvalid, row, why)
		}
		if _, ok := seen[id]; ok {
			dupes++
			continue
		}
		if len(ids) == MaxInvitees {
			return nil, 0, fmt.Errorf("%w: a sale may list at most %d customers", ErrInvitationsInvalid, MaxInvitees)
		}
		seen[id] = struct{}{}
		ids = append(ids, strings.Clone(id))
	}
}

// customerIDProblem says what is wrong with a listed customer id, or "":
// 1 to MaxCustomerIDLen printable characters, as the shop gives it (it is
// compared with the identity token's sub exactly, so a space is refused
// rather than trimmed).
func customerIDProblem(id string) string {
	switch {
	case id == "":
		return "is empty"
	case !utf8.ValidString(id):
		return "is not valid UTF-8"
	case utf8.RuneCountInString(id) > MaxCustomerIDLen:
		return fmt.Sprintf("has more than %d characters", MaxCustomerIDLen)
	case strings.IndexFunc(id, func(r rune) bool { return !unicode.IsPrint(r) || unicode.IsSpace(r) }) >= 0:
		return "must be printable characters only (no spaces, tabs or control characters)"
	}
	return ""
}

// InviteesCSV writes an invitee list as ParseInvitees reads it, each id
// defused (csvcell): a shop's customer id may start as a formula does.
func InviteesCSV(ids []string) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	_ = w.Write([]string{"customer_id"}) // a bytes.Buffer does not fail
	for _, id := range ids {
		_ = w.Write([]string{csvcell.Defuse(id)})
	}
	w.Flush()
	return b.Bytes()
}

// CheckGroups checks the groups a sale admits: at most MaxSaleGroups, each
// 1 to MaxGroupLen printable characters, none twice.
func CheckGroups(groups []string) error {
	if len(groups) > MaxSaleGroups {
		return fmt.Errorf("%w: a sale may admit at most %d groups, not %d", ErrInvitationsInvalid, MaxSaleGroups, len(groups))
	}
	for i, g := range groups {
		switch {
		case g == "" || !utf8.ValidString(g) || utf8.RuneCountInString(g) > MaxGroupLen ||
			strings.IndexFunc(g, func(r rune) bool { return !unicode.IsPrint(r) || unicode.IsSpace(r) }) >= 0:
			return fmt.Errorf("%w: group %d must be 1 to %d printable characters without spaces", ErrInvitationsInvalid, i+1, MaxGroupLen)
		case slices.Contains(groups[:i], g):
			return fmt.Errorf("%w: group %q is listed twice", ErrInvitationsInvalid, g)
		}
	}
	return nil
}
