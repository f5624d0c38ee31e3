package shopperclient

import "time"

// Clock sync (docs/protocol.md, "Clock sync"): on every connection the
// shopper asks the server's time clockSamples times, clockSpacing apart, and
// keeps the answer that took the shortest round trip: the shorter the trip,
// the less the network's asymmetry can skew the estimate.
const (
	clockSamples = 5
	clockSpacing = 200 * time.Millisecond
)

// clockSync estimates how far the server's clock is ahead of ours from the
// answers to "time" requests. The zero value is ready, at offset zero. It is
// not safe for concurrent use.
type clockSync struct {
	offset   time.Duration // server clock minus ours
	sampled  bool          // this round has a sample
	bestTrip int64         // the shortest round trip of this round, in ms
}

// begin starts a round of samples, on a new connection. The offset of the
// last round stays until this round's first sample replaces it.
func (c *clockSync) begin() { c.sampled = false }

// add takes one answer: clientTime and serverTime as the server sent them
// back, receivedAt our clock (unix ms) when the answer arrived. It reports
// whether the sample became the offset.
func (c *clockSync) add(clientTime, serverTime, receivedAt int64) bool {
	trip := receivedAt - clientTime
	if clientTime <= 0 || trip < 0 {
		return false // not an answer to one of our requests
	}
	if c.sampled && trip >= c.bestTrip {
		return false
	}
	c.sampled, c.bestTrip = true, trip
	// Assume the answer was stamped halfway through the trip.
	c.offset = time.Duration(serverTime*2-(clientTime+receivedAt)) * time.Millisecond / 2
	return true
}
