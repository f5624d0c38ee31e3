package paging

import (
	"errors"
	"slices"
	"testing"
)

var errBad = errors.New("bad test query")

var rules = Rules{Statuses: []string{"a", "b"}, DefaultLimit: 10, MaxLimit: 100, Bad: errBad}

func TestAQueryIsReadWithStatusesOnceAndItsCursorBack(t *testing.T) {
	q, err := rules.Parse(" b,a, b", "100", EncodeCursor(42))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(q.Statuses, []string{"b", "a"}) || q.Limit != 100 || q.Cursor != 42 {
		t.Fatalf("query %+v", q)
	}
	if q, _ := rules.Parse("", "", ""); q.Limit != 10 || q.Statuses != nil || q.Cursor != 0 {
		t.Fatalf("empty query %+v", q)
	}
}

func TestAQueryThatCannotBeReadIsTheCallersSentinelWithItsMessage(t *testing.T) {
	for _, c := range []struct{ status, limit, cursor, want string }{
		{"c", "", "", `bad test query: status "c" is none of a, b`},
		{"", "0", "", "bad test query: limit must be a whole number from 1 to 100"},
		{"", "101", "", "bad test query: limit must be a whole number from 1 to 100"},
		{"", "x", "", "bad test query: limit must be a whole number from 1 to 100"},
		{"", "", "!", "bad test query: cursor is not one this server gave"},
		{"", "", EncodeCursor(0), "bad test query: cursor is not one this server gave"},
		{"", "", "eA", "bad test query: cursor is not one this server gave"},
	} {
		_, err := rules.Parse(c.status, c.limit, c.cursor)
		if !errors.Is(err, errBad) || err.Error() != c.want {
			t.Errorf("Parse(%q, %q, %q) = %v, want %s", c.status, c.limit, c.cursor, err, c.want)
		}
	}
}

// TestCursorsKeepTheirShape: cursors already given out (base64url of the
// decimal id) must still read.
func TestCursorsKeepTheirShape(t *testing.T) {
	if c := EncodeCursor(1234); c != "MTIzNA" {
		t.Fatalf("EncodeCursor(1234) = %q", c)
	}
	if id, ok := DecodeCursor("MTIzNA"); !ok || id != 1234 {
		t.Fatalf("DecodeCursor = %d, %v", id, ok)
	}
}
