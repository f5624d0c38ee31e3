// Package fanout is the shopper protocol's fan-out engine: what a node
// tells the shoppers connected to it, and how it gets the bytes out. It
// holds the engine's leaves so far: the measured outflow that a position's
// ETA is estimated from (eta.go), and the corked writes that let a batch of
// messages leave in one system call (cork.go). The hub, the sale rooms, the
// connections and the shared writers are to follow from server (issue 18).
// It imports nothing of the project.
package fanout
