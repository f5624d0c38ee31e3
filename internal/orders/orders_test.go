package orders

import (
	"errors"
	"slices"
	"testing"

	"github.com/foyerhq/foyer/internal/paging"
	"github.com/foyerhq/foyer/worker"
)

// The statuses the API accepts are the ones the workers write: a status
// added to the workers and not here would be refused by the filter.
func TestTheStatusesAreTheOnesTheWorkersWrite(t *testing.T) {
	want := []string{worker.OrderPendingPayment, worker.OrderPaid, worker.OrderCancelled}
	if !slices.Equal(Statuses, want) {
		t.Errorf("Statuses %v, the workers write %v", Statuses, want)
	}
}

func TestACursorReadsBackAsTheOrderItNames(t *testing.T) {
	q, err := ParseQuery("", "", paging.EncodeCursor(42))
	if err != nil || q.After != 42 || q.Limit != DefaultLimit {
		t.Errorf("cursor of 42 reads as %+v, %v", q, err)
	}
}

func TestBadOrdersQueriesAreBadQueries(t *testing.T) {
	for _, c := range []struct{ status, limit, cursor string }{
		{"shipped", "", ""}, {"paid,", "", ""}, {"", "0", ""}, {"", "1001", ""}, {"", "-1", ""},
		{"", "1.5", ""}, {"", "", "***"}, {"", "", "MA"}, // "0"
	} {
		if _, err := ParseQuery(c.status, c.limit, c.cursor); !errors.Is(err, ErrBadQuery) {
			t.Errorf("%+v: %v, want ErrBadQuery", c, err)
		}
	}
}
