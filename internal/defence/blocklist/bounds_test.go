package blocklist

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/foyerhq/foyer/internal/testenv"
)

func TestAWideNetworkOrABadReasonIsRejectedAndChangesNothing(t *testing.T) {
	rdb := testenv.RedisClient(t, testenv.NewRedis(t))
	m := NewManager(rdb)
	for _, c := range []struct {
		kind          Kind
		value, reason string
	}{
		{KindNetwork, "0.0.0.0/0", "everyone"},
		{KindNetwork, "::/0", "everyone"},
		{KindNetwork, "128.0.0.0/7", "half"},
		{KindNetwork, "2000::/31", "most of the internet"},
		{KindNetwork, "::ffff:0.0.0.0/100", "everyone, as a mapped /4"},
		{KindIP, "203.0.113.7", "abuse\x00"},
		{KindIP, "203.0.113.7", "two\nlines"},
		{KindIP, "203.0.113.7", "\xff"},
		{KindIP, "203.0.113.7", strings.Repeat("x", MaxReasonLen+1)},
	} {
		if _, err := m.Add(t.Context(), c.kind, c.value, c.reason); !errors.Is(err, ErrBadEntry) {
			t.Errorf("Add(%s, %q, %q): err = %v, want ErrBadEntry", c.kind, c.value, c.reason, err)
		}
		if _, err := Check(c.kind, c.value, c.reason); !errors.Is(err, ErrBadEntry) {
			t.Errorf("Check(%s, %q, %q): err = %v, want ErrBadEntry", c.kind, c.value, c.reason, err)
		}
	}
	if n := rdb.Exists(t.Context(), listKey, versionKey).Val(); n != 0 {
		t.Errorf("%d of the list and its version exist after only bad entries", n)
	}
	for _, ok := range []struct {
		kind          Kind
		value, reason string
	}{
		{KindNetwork, "10.0.0.0/8", strings.Repeat("é", MaxReasonLen)},
		{KindNetwork, "2001:db8::/32", ""},
	} {
		if _, err := m.Add(t.Context(), ok.kind, ok.value, ok.reason); err != nil {
			t.Errorf("Add(%s, %q) at the bounds: %v", ok.kind, ok.value, err)
		}
	}
}

// TestTheBoundsOfABlocklistEntryAreDocumented keeps docs/defence.md's table
// of bounds true for the blocklist's rows.
func TestTheBoundsOfABlocklistEntryAreDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../../docs/defence.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range []string{
		fmt.Sprintf("| blocklist `reason` | at most %d characters |", MaxReasonLen),
		fmt.Sprintf("| blocklist `net` | a prefix of at least /%d (IPv4) or /%d (IPv6)", MinPrefixIPv4, MinPrefixIPv6),
		fmt.Sprintf("| blocklist `shopper` | 1 to %d bytes, no spaces |", maxShopperID),
	} {
		if !strings.Contains(string(doc), row) {
			t.Errorf("docs/defence.md's bounds table lacks the row %q", row)
		}
	}
}
