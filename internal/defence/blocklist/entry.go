package blocklist

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Errors a caller decides on: the admin API maps ErrBadEntry to 400 and
// ErrNotFound to 404.
var (
	ErrBadEntry = errors.New("bad blocklist entry")
	ErrNotFound = errors.New("no such blocklist entry")
)

// Kind is what an entry blocks.
type Kind string

const (
	KindIP      Kind = "ip"      // one address, IPv4 or IPv6
	KindNetwork Kind = "net"     // every address of a CIDR prefix
	KindShopper Kind = "shopper" // a shopper id, whatever the IP
)

// maxShopperID bounds a shopper id, so a typo cannot store a novel.
const maxShopperID = 256

// MaxReasonLen bounds an entry's reason, in characters: it is kept in Redis,
// shown on the dashboard and written to the audit log.
const MaxReasonLen = 200

// The shortest network prefixes an entry may block: a /0 (or a /4) would shut
// out most of the internet by one typo. A shorter one is refused, so blocking
// that much takes several deliberate entries.
const (
	MinPrefixIPv4 = 8
	MinPrefixIPv6 = 32
)

// Entry is one blocked IP, network or shopper.
type Entry struct {
	Kind Kind `json:"kind"`
	// Value is canonical: "203.0.113.7", "2001:db8::/32", "shopper-id". An
	// IPv4-mapped IPv6 address is stored as the IPv4 one, a network with its
	// host bits cleared.
	Value   string    `json:"value"`
	Reason  string    `json:"reason,omitempty"`
	AddedAt time.Time `json:"added_at"`
}

// field is the entry's field in the blocklist hash: one per kind and value,
// so blocking the same thing twice updates the reason rather than duplicating.
func (e Entry) field() string { return string(e.Kind) + ":" + e.Value }

// canonical checks value as a kind and returns the form it is stored and
// matched in. Its errors wrap ErrBadEntry.
func canonical(kind Kind, value string) (string, error) {
	value = strings.TrimSpace(value)
	bad := func(why string) (string, error) {
		return "", fmt.Errorf("%w: %s %q: %s", ErrBadEntry, kind, value, why)
	}
	switch kind {
	case KindIP:
		a, err := netip.ParseAddr(value)
		if err != nil {
			return bad(err.Error())
		}
		if a.Zone() != "" {
			return bad("an address with a zone never reaches the gateway")
		}
		return a.Unmap().String(), nil
	case KindNetwork:
		p, err := netip.ParsePrefix(value)
		if err != nil {
			return bad(err.Error())
		}
		if p.Addr().Is4In6() {
			// Clients' addresses are unmapped before matching, so store the
			// IPv4 network the prefix means.
			if p.Bits() < 96 {
				return bad("an IPv4-mapped prefix shorter than /96")
			}
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		if p.Addr().Is4() && p.Bits() < MinPrefixIPv4 || p.Addr().Is6() && p.Bits() < MinPrefixIPv6 {
			return bad(fmt.Sprintf("a network must be at least a /%d (IPv4) or a /%d (IPv6)", MinPrefixIPv4, MinPrefixIPv6))
		}
		return p.Masked().String(), nil
	case KindShopper:
		if value == "" || len(value) > maxShopperID || !utf8.ValidString(value) {
			return bad(fmt.Sprintf("a shopper id is 1 to %d bytes of UTF-8", maxShopperID))
		}
		if strings.IndexFunc(value, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
			return bad("a shopper id has no spaces or control characters")
		}
		return value, nil
	}
	return bad("kind is not ip, net or shopper")
}

// Check returns the entry that blocking value as a kind, for reason, would
// store (without its time), or why it would be refused, wrapping ErrBadEntry.
// Add checks the same; Check lets a caller learn it before writing anything
// elsewhere, such as the audit log.
func Check(kind Kind, value, reason string) (Entry, error) {
	c, err := canonical(kind, value)
	if err != nil {
		return Entry{}, err
	}
	if err := checkReason(reason); err != nil {
		return Entry{}, err
	}
	return Entry{Kind: kind, Value: c, Reason: reason}, nil
}

// checkReason refuses a reason longer than MaxReasonLen characters, or with
// a control character (NUL, tab and newline included): Postgres refuses NUL
// in the audit log, and a reason is one line on the dashboard. Its errors
// wrap ErrBadEntry.
func checkReason(reason string) error {
	switch {
	case !utf8.ValidString(reason):
		return fmt.Errorf("%w: reason must be valid UTF-8", ErrBadEntry)
	case utf8.RuneCountInString(reason) > MaxReasonLen:
		return fmt.Errorf("%w: reason must have at most %d characters", ErrBadEntry, MaxReasonLen)
	case strings.IndexFunc(reason, unicode.IsControl) >= 0:
		return fmt.Errorf("%w: reason must not contain control characters (tab and newline included)", ErrBadEntry)
	}
	return nil
}

// parseField splits a hash field back into its kind and value, checking both,
// so a field edited by hand into nonsense is caught rather than matched.
func parseField(field string) (Kind, string, error) {
	kind, value, ok := strings.Cut(field, ":")
	if !ok {
		return "", "", fmt.Errorf("%w: field %q has no kind", ErrBadEntry, field)
	}
	c, err := canonical(Kind(kind), value)
	if err != nil {
		return "", "", err
	}
	return Kind(kind), c, nil
}
