package server

import (
	"context"
	"errors"
	"io"
	"net"
	"syscall"

	"github.com/coder/websocket"
)

// socketEnd is why a shopper's socket ended.
type socketEnd int

const (
	endClosedHere socketEnd = iota // this node closed it (idle, blocked, too slow, draining, a panic): said where it was decided
	endPeerLeft                    // the client closed it, or went away: a socket's ordinary end
	endTooBig                      // the library closed it (1009) for a client message past readLimit
	endFailed                      // anything else: a real failure, worth a warning
)

// endOf sorts why a socket ended, from the error its reader got, in this one
// place: errors that mean "the peer went away" (a normal closure, going
// away, the network dropping it, the request's context ending) are told
// apart from real failures, so that only the latter are logged. closedHere
// is whether this node had closed the connection first: then the reader's
// error is only the echo of that close.
func endOf(err error, closedHere bool) socketEnd {
	if closedHere {
		return endClosedHere
	}
	switch websocket.CloseStatus(err) {
	case websocket.StatusNormalClosure, websocket.StatusGoingAway, websocket.StatusNoStatusRcvd:
		return endPeerLeft
	case websocket.StatusMessageTooBig:
		return endTooBig
	}
	switch {
	case err == nil, errors.Is(err, context.Canceled), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, net.ErrClosed), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return endPeerLeft
	}
	return endFailed
}

// clientGone reports whether a reader's error says the client went
// without a close frame: the end of the stream, or a reset. Nothing written
// to it after that arrives, a close frame included.
func clientGone(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// ended logs why the session's socket ended, when that was a failure.
func (ss *session) ended(err error) {
	if endOf(err, ss.conn.ClosedHere()) == endFailed {
		ss.s.deps.Log.Warn("shopper socket failed", "sale", ss.saleID, "shopper", ss.shopper, "err", err)
	}
}
