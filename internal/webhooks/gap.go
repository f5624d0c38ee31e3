package webhooks

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/foyerhq/foyer/waitingroom"
)

// ActionEventsLost is the audit log action of a gap: the tail found a
// sale's Redis event stream trimmed (MAXLEN ~ waitingroom.EventsMaxLen)
// past its cursor, so events in between were never recorded. A worker down
// long enough in a busy sale is the only way there.
const ActionEventsLost = "webhook_events_lost"

// gap is the span of a sale's stream lost to trimming, and what the tail
// records in its place.
type gap struct {
	After     string `json:"after"`      // the cursor: every entry up to it was recorded
	FirstKept string `json:"first_kept"` // the oldest entry left: those after After and before it are lost
	State     string `json:"state,omitempty"`
	events    []newEvent
}

// lost says whether entries after the cursor after were trimmed off the
// sale's stream. Of what they told, the sale's state can be re-derived: so
// a gap records sale.state_changed with the state as it stands (and
// sale.sold_out if sold out), marked resync, ahead of the entries after
// the gap; the shop never misses where the sale ended. Releases in the gap
// cannot be re-derived (docs/integration.md says what a shop does).
func (t *Tail) lost(ctx context.Context, saleID, after string) (*gap, error) {
	first, err := t.rooms.Trimmed(ctx, saleID)
	if err != nil {
		return nil, err
	}
	// The entry after the cursor is gone when the oldest one left is past
	// it. Only when the trim stopped exactly at the cursor is that wrong
	// (nothing unread was lost): a rare, harmless resync.
	if first == "" || !streamIDBefore(after, first) {
		return nil, nil
	}
	g := &gap{After: after, FirstKept: first}
	st, err := t.rooms.Status(ctx, saleID)
	if errors.Is(err, waitingroom.ErrSaleNotFound) {
		return g, nil // gone from Redis: no state to tell
	}
	if err != nil {
		return nil, err
	}
	g.State = string(st.State)
	at := streamTime(first)
	data := SaleStateData{State: g.State, Resync: true}
	types := []string{SaleStateChanged}
	if st.State == waitingroom.StateSoldOut {
		types = append(types, SaleSoldOut)
	}
	for _, typ := range types {
		// Derived from the gap, so every worker crossing it records one.
		e, err := makeEvent(typ, saleID, "sale:"+saleID, data, at, saleID, "gap", after, first)
		if err != nil {
			return nil, err
		}
		g.events = append(g.events, e)
	}
	return g, nil
}

// streamIDBefore says whether the stream id a ("<ms>-<seq>") comes before b.
func streamIDBefore(a, b string) bool {
	am, as := splitStreamID(a)
	bm, bs := splitStreamID(b)
	return am < bm || am == bm && as < bs
}

func splitStreamID(id string) (ms, seq uint64) {
	m, s, _ := strings.Cut(id, "-")
	ms, _ = strconv.ParseUint(m, 10, 64)
	seq, _ = strconv.ParseUint(s, 10, 64)
	return ms, seq
}
