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
	Flags    string // hash: shopper id -> JSON {signals, ip, first_at_ms}, the signals of automation seen
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
	Spent  string
	prefix string
}

// Beside names a key in the sale's hash slot for data another package keeps
// beside the sale (checkout's idempotency answers), so that it moves with
// the sale on a cluster. name must not be one of the names above.
func (k SaleKeys) Beside(name string) string { return k.prefix + name }

// Conns is the set of the sale's shoppers connected to one node.
func (k SaleKeys) Conns(node string) string { return k.prefix + "conns:" + node }

// Keys returns the keys of the sale with this id.
func Keys(saleID string) SaleKeys {
	p := "sale:{" + saleID + "}:"
	return SaleKeys{
		Meta:      p + "meta",
		Queue:     p + "queue",
		Pre:       p + "pre",
		Draw:      p + "draw",
		Presort:   p + "presort",
		Gone:      p + "gone",
		Journeys:  p + "journeys",
		Shoppers:  p + "shoppers",
		Res:       p + "res",
		Batches:   p + "batches",
		Holds:     p + "holds",
		Outbox:    p + "outbox",
		Events:    p + "events",
		Lease:     p + "admitter",
		Fence:     p + "fence",
		Nodes:     p + "nodes",
		Away:      p + "away",
		Flags:     p + "flags",
		Bought:    p + "bought",
		Customers: p + "customers",
		Invited:   p + "invited",
		Groups:    p + "groups",
		Invites:   p + "invites",
		Spent:     p + "spent",
		prefix:    p,
	}
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
