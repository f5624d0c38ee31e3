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
