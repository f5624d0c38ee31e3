// Package blocklist owns the list of clients the gateway turns away: single
// IPs, whole networks (CIDR) and shopper ids, each with an optional reason and
// the time it was added.
//
// The list lives in Redis (the hash foyer:blocklist) and is changed through a
// Manager, from any node or an admin tool. Every node runs a Watcher that keeps
// a copy in memory, so checking a request costs no Redis call, and it promises
// that a change reaches every node within a second: a change bumps the
// version foyer:blocklist:version and is announced on the channel
// foyer:blocklist:changed, and a watcher that misses the announcement (pub/sub
// delivers at most once) sees the new version on its next poll.
package blocklist
