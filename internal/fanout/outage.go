package fanout

import (
	"time"

	"github.com/foyerhq/foyer/internal/wire"
)

// degradedAfter is how long a sale room's reads of the sale's data in Redis
// (its status every second, its event stream) must have failed in a row
// before the room's shoppers are told: long enough that a blip go-redis
// rides out by retrying says nothing, short enough that a shopper whose page
// stopped moving soon learns why, and that it should stay. A read that hangs
// counts from when it began, so a Redis too slow to answer (go-redis gives
// up after its 3 s read timeout) is told like one that is down.
const degradedAfter = 2 * time.Second

// The codes of a notice message.
const (
	NoticeDegraded  = "degraded"  // the node cannot reach the sale's data: connection and place are kept
	NoticeRecovered = "recovered" // it can again
)

// The two notices, encoded once: every shopper of a room gets the same bytes.
var (
	degradedNotice = encode(NoticeMsg{Type: wire.MsgNotice, Code: NoticeDegraded,
		Message: "We are having trouble reaching our servers; your place is kept — please stay on this page"})
	recoveredNotice = encode(NoticeMsg{Type: wire.MsgNotice, Code: NoticeRecovered,
		Message: "We are back: thank you for waiting"})
)

// outage is what a sale room knows of its reads of the sale's data. It is
// guarded by the room's mutex.
type outage struct {
	failingSince time.Time // when the first of the reads failing in a row began; zero while they succeed
	degraded     bool      // the shoppers were told degraded, and not yet recovered
}

// readFailed records that a read of the sale's data, begun at started,
// failed. Once reads have failed in a row for degradedAfter, the room's
// shoppers are told, once. Their connections stay open: the place of a
// shopper is in Redis, not in its connection, so there is nothing to gain by
// sending a crowd to reconnect to a node that can serve them no better.
func (r *Room) readFailed(started time.Time, what string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.outage.failingSince.IsZero() {
		r.outage.failingSince = started
		r.h.log.Warn("sale room: "+what+" failed; retrying", "sale", r.id, "err", err)
	}
	if r.outage.degraded || time.Since(r.outage.failingSince) < degradedAfter {
		return
	}
	r.outage.degraded = true
	r.h.log.Error("sale room: the sale's data is out of reach; shoppers told to stay", "sale", r.id,
		"since", r.outage.failingSince, "shoppers", len(r.conns), "err", err)
	r.broadcast(degradedNotice)
}

// readSucceeded records that a read of the sale's data succeeded, and tells
// the shoppers that were told degraded that it is over.
func (r *Room) readSucceeded() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.outage.failingSince.IsZero() {
		return
	}
	r.outage.failingSince = time.Time{}
	if r.outage.degraded {
		r.outage.degraded = false
		r.h.log.Info("sale room: the sale's data is back; shoppers told", "sale", r.id)
		r.broadcast(recoveredNotice)
	}
}

// Shoppers are the shoppers with a connection open on this node, by sale.
// After an outage that made the node look dead, the composition root
// (internal/app, through server.Server.Shoppers) records their presence
// again with them, so that none loses its place for having stayed.
func (h *Hub) Shoppers() map[string][]string {
	rooms := h.rooms()
	out := make(map[string][]string, len(rooms))
	for _, r := range rooms {
		r.mu.Lock()
		for shopper := range r.shoppers {
			out[r.id] = append(out[r.id], shopper)
		}
		r.mu.Unlock()
	}
	return out
}
