package waitingroom

// The keys of a sale are waitingroom's data: its scripts are the only writers
// of a place and a reservation. Other packages read them through what this
// package exports (Keys, for a reconciliation or a test that must look).
//
// Every key of one sale carries the hash tag {saleID}: they live in one Redis
// Cluster slot, so every Lua script can touch them together and runs unchanged
// on a cluster.

import (
	"errors"
	"strings"

	"github.com/redis/go-redis/v9"
)

// SaleKeys are the Redis keys of one sale.
type SaleKeys struct {
	Meta     string // hash: plan fields and live counters (available, held, sold, mark, seq, state)
	Queue    string // sorted set: shopper id -> ticket
	Pre      string // sorted set: shopper id -> prequeue ticket, until the draw at the start
	Draw     string // string: the prequeue tickets in drawn order, space separated
	Presort  string // sorted set, all scores 0: "<sha1(seed:p)>:<p>:<shopper>" per prequeue shopper, in draw order
	Gone     string // sorted set: tickets above mark that left the queue without being admitted
	Journeys string // hash: shopper id -> transaction id, set on first join
	Shoppers string // hash: shopper id -> reservation id, while a reservation is held or confirmed
	Res      string // hash: reservation id -> JSON reservation, written once it is confirmed (or cancelled)
	Batches  string // hash: admission nonce -> "expires_ms admitted_ms"; "<nonce>:who" -> "shopper ticket shopper ticket ..."
	Holds    string // sorted set: admission nonce -> expiry (unix ms), until the tick has released its lapsed holds
	Outbox   string // sorted set: reservation id -> confirm time, confirmed but not yet published
	Events   string // stream: what shoppers must hear about, in order (fields "type" and "data")
	Lease    string // string: node id of the sale's admitter
	Fence    string // counter: fencing token, raised at every change of admitter
	Nodes    string // set: ids of the nodes that hold shoppers of the sale
	Away     string // sorted set: shopper id -> when its last connection closed (unix ms)
	// Present is a hash: shopper id -> how many nodes hold a connection of
	// it (how many Conns sets name it). It lets a departure tell whether the
	// shopper is still connected elsewhere without reading every node's set,
	// which a script could do only with keys no caller declared.
	Present string
	Flags   string // hash: shopper id -> JSON {signals, ip, first_at_ms}, the signals of automation seen
	// Bought counts what each shopper bought across the sale, for the
	// per-customer limit: shopper id -> units, "<shopper id>:orders" -> orders
	// (confirm.lua raises them, refund.lua lowers them).
	Bought string
	// Customers is shopper id -> the shop's own customer id, for a shopper
	// whose session was made from the shop's identity token (at most
	// identity.MaxCustomerIDLen characters), recorded by the customer's join
	// (join.lua); confirm.lua copies it into the reservation, so orders
	// carry it.
	Customers string
	Invited   string // set: shopper ids of the customers an invited sale lists (eligibility.go)
	Groups    string // set: the shop's groups an invited sale admits
	Invites   string // hash: SHA-256 (hex) of an invite code -> "" while unused, then "<shopper>:<unix ms>" of its use
	// Spent is a set of the digests of the invite codes spent since the
	// gateways last copied their uses into Postgres (RecordInviteSpends): a
	// join adds one, the copy takes away what it wrote.
	Spent string
	// Scheduled is a sorted set of the operator's messages to show later:
	// "<id> <text>" -> when (unix ms); tick.lua shows them (messages.go).
	Scheduled string
	// Arrivals is a sorted set of marks: tick time (unix ms) -> the sale's
	// ticket counter (seq) at that tick, one per tick that saw new tickets
	// (tick.lua); a ticket arrived by the time of the first mark at or
	// above it. admit.lua drops the marks below the tickets it let out.
	Arrivals string
	// History is a hash of what the post-sale report needs that no other
	// key keeps (waits.go): the wait histogram by arrival minute
	// ("w:<minute>:<bucket>" -> shoppers, "max:<minute>" -> longest wait
	// ms), written by admit.lua, and the holds released by tick.lua
	// ("lapsed", "away").
	History string
	prefix  string
}

// Beside names a key in the sale's hash slot for data another package keeps
// beside the sale (checkout's idempotency answers), so that it moves with
// the sale on a cluster. name must not be one of the names above.
func (k SaleKeys) Beside(name string) string { return k.prefix + name }

// Conns is the set of the sale's shoppers connected to one node.
func (k SaleKeys) Conns(node string) string { return k.prefix + "conns:" + node }

// Keys returns the keys of the sale with this id. Every name is a slice of
// one string built at once: the hot paths (a join, a checkout, each read
// of the event stream) ask for a sale's keys, and 25 strings each were a
// fifteenth of a gateway's allocations in a moving sale.
func Keys(saleID string) SaleKeys {
	p := "sale:{" + saleID + "}:"
	var all strings.Builder
	all.Grow(len(keyNames) * (len(p) + 10))
	ends := make([]int, len(keyNames)) // on the stack: keyNames is fixed
	for i, name := range keyNames {
		all.WriteString(p)
		all.WriteString(name)
		ends[i] = all.Len()
	}
	joined := all.String()
	key := func(i int) string {
		start := ends[i] - len(keyNames[i]) - len(p)
		return joined[start:ends[i]]
	}
	return SaleKeys{
		Meta: key(0), Queue: key(1), Pre: key(2), Draw: key(3), Presort: key(4), Gone: key(5),
		Journeys: key(6), Shoppers: key(7), Res: key(8), Batches: key(9), Holds: key(10), Outbox: key(11),
		Events: key(12), Lease: key(13), Fence: key(14), Nodes: key(15), Away: key(16), Flags: key(17),
		Bought: key(18), Customers: key(19), Invited: key(20), Groups: key(21), Invites: key(22), Spent: key(23),
		Present: key(24), Scheduled: key(25), Arrivals: key(26), History: key(27),
		prefix: joined[:len(p)],
	}
}

// keyNames are the names of a sale's keys after its prefix, in the order
// Keys assigns them.
var keyNames = [...]string{
	"meta", "queue", "pre", "draw", "presort", "gone", "journeys", "shoppers", "res", "batches", "holds", "outbox",
	"events", "admitter", "fence", "nodes", "away", "flags", "bought", "customers", "invited", "groups", "invites", "spent",
	"present", "scheduled", "arrivals", "history",
}

// nodeAlive is the key a live node refreshes; it expires when the node dies.
// It has no hash tag: it belongs to no sale.
func nodeAlive(node string) string { return "foyer:node:" + node + ":alive" }

// ActiveSales is a set of the ids of sales whose hot state is in Redis. It has no
// hash tag on purpose: no script touches it together with a sale's keys.
const ActiveSales = "foyer:sales:active"

// EventsMaxLen bounds a sale's event stream (approximately, MAXLEN ~). Nodes
// read it live; a node that falls this far behind rebuilds its view instead.
const EventsMaxLen = 100000

// replyCode returns the code of an error reply of one of the sale scripts
// (the first word, as in "SOLD_OUT the sale is sold out"), or "" when err is
// not an error reply. Redis puts "ERR " before a reply of one word; it is
// skipped.
func replyCode(err error) string {
	var rerr redis.Error
	if !errors.As(err, &rerr) {
		return ""
	}
	msg := strings.TrimPrefix(rerr.Error(), "ERR ")
	code, _, _ := strings.Cut(msg, " ")
	return code
}

// replyMessage is the words after the code of a sale script's error reply.
func replyMessage(err error) string {
	var rerr redis.Error
	if !errors.As(err, &rerr) {
		return ""
	}
	_, msg, _ := strings.Cut(strings.TrimPrefix(rerr.Error(), "ERR "), " ")
	return msg
}
