// Package fanout is the shopper protocol's fan-out engine: what a node
// tells the shoppers connected to it, and how it gets the bytes out. The
// hub (hub.go) holds one room per sale the node has shoppers of; a room
// (room.go) follows its sale's events and tells each shopper what they mean
// for it, in the messages of messages.go; each connection (conn.go) queues what it is told, and the
// node's shared writers (writers.go) write it, corked (cork.go). A
// position's ETA is estimated from the measured outflow (eta.go), and while
// the queue moves steadily a client counts the position down between
// messages by the pace the room measured (fall.go). A client
// silent for its idle timeout is found by its room's idle wheel, which the
// hub sweeps once a second (idle.go).
//
// It promises: a room's lock guards memory, never I/O; a position shown to
// a shopper never rises; the drain (Hub.Run) awaits every tracked socket's
// clean-up before it stops the rooms and the writers, which Run owns.
//
// It needs two things of the rest of the node, as small interfaces: the
// queue's events and counts (SaleFeed) and token signing (TokenIssuer). The
// transport (server) accepts the sockets, reads the clients' messages and
// owns the error table (Config.EncodeError).
package fanout
