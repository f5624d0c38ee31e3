package blocklist

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/foyerhq/foyer/internal/testenv"
)

func TestABadEntryIsRejectedAndChangesNothing(t *testing.T) {
	rdb := testenv.RedisClient(t, testenv.NewRedis(t))
	m := NewManager(rdb)
	for _, c := range []struct {
		kind  Kind
		value string
	}{
		{KindIP, "999.1.1.1"},
		{KindIP, "203.0.113.0/24"},
		{KindIP, ""},
		{KindIP, "fe80::1%eth0"},
		{KindNetwork, "10.0.0.0/33"},
		{KindNetwork, "10.0.0.1"},
		{KindNetwork, "::ffff:10.0.0.0/8"},
		{KindShopper, ""},
		{KindShopper, "two words"},
		{KindShopper, string(make([]byte, maxShopperID+1))},
		{"asn", "AS64496"},
	} {
		if _, err := m.Add(t.Context(), c.kind, c.value, "x"); !errors.Is(err, ErrBadEntry) {
			t.Errorf("Add(%s, %q): err = %v, want ErrBadEntry", c.kind, c.value, err)
		}
		if err := m.Remove(t.Context(), c.kind, c.value); !errors.Is(err, ErrBadEntry) {
			t.Errorf("Remove(%s, %q): err = %v, want ErrBadEntry", c.kind, c.value, err)
		}
	}
	if n := rdb.Exists(t.Context(), listKey, versionKey).Val(); n != 0 {
		t.Errorf("%d of the list and its version exist after only bad entries", n)
	}
}

func TestEntriesAreStoredInOneCanonicalForm(t *testing.T) {
	rdb := testenv.RedisClient(t, testenv.NewRedis(t))
	m := NewManager(rdb)
	now := time.Date(2026, 11, 27, 9, 0, 0, 123456789, time.UTC)
	m.now = func() time.Time { return now }
	for _, c := range []struct {
		kind        Kind
		value, want string
	}{
		{KindIP, " ::ffff:203.0.113.7 ", "203.0.113.7"},
		{KindIP, "2001:DB8::0:1", "2001:db8::1"},
		{KindNetwork, "198.51.100.99/24", "198.51.100.0/24"},
		{KindNetwork, "::ffff:192.0.2.0/120", "192.0.2.0/24"},
		{KindShopper, "v_scalper", "v_scalper"},
	} {
		e, err := m.Add(t.Context(), c.kind, c.value, "reason "+c.want)
		if err != nil {
			t.Fatal(err)
		}
		if e.Value != c.want {
			t.Errorf("Add(%s, %q) stored %q, want %q", c.kind, c.value, e.Value, c.want)
		}
	}
	// Blocking again replaces rather than duplicates.
	if _, err := m.Add(t.Context(), KindIP, "203.0.113.7", "reason again"); err != nil {
		t.Fatal(err)
	}

	entries, err := m.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.field()+" "+e.Reason)
		if !e.AddedAt.Equal(now.Truncate(time.Millisecond)) {
			t.Errorf("%s added at %v, want %v", e.field(), e.AddedAt, now)
		}
	}
	want := []string{
		"ip:2001:db8::1 reason 2001:db8::1",
		"ip:203.0.113.7 reason again",
		"net:192.0.2.0/24 reason 192.0.2.0/24",
		"net:198.51.100.0/24 reason 198.51.100.0/24",
		"shopper:v_scalper reason v_scalper",
	}
	if !slices.Equal(got, want) {
		t.Errorf("List = %q\nwant %q", got, want)
	}
	if v := rdb.Get(t.Context(), versionKey).Val(); v != "6" {
		t.Errorf("version = %s after 6 changes", v)
	}
}
