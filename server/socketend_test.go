package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"syscall"
	"testing"

	"github.com/coder/websocket"
)

// TestASocketEndIsAFailureOnlyWhenThePeerDidNotGoAway: the one place that
// sorts why a socket ended tells a client leaving (normally, going away,
// the network dropping it) and this node's own closes apart from real
// failures, which alone are logged.
func TestASocketEndIsAFailureOnlyWhenThePeerDidNotGoAway(t *testing.T) {
	closed := func(code websocket.StatusCode) error {
		return fmt.Errorf("read: %w", websocket.CloseError{Code: code, Reason: "test"})
	}
	for _, tc := range []struct {
		name       string
		err        error
		closedHere bool
		want       socketEnd
	}{
		{"normal closure", closed(websocket.StatusNormalClosure), false, endPeerLeft},
		{"going away", closed(websocket.StatusGoingAway), false, endPeerLeft},
		{"no close frame, EOF", fmt.Errorf("read frame header: %w", io.EOF), false, endPeerLeft},
		{"connection reset", fmt.Errorf("read: %w", syscall.ECONNRESET), false, endPeerLeft},
		{"context canceled", context.Canceled, false, endPeerLeft},
		{"message too big", closed(websocket.StatusMessageTooBig), false, endTooBig},
		{"closed here, idle", closed(4009), true, endClosedHere},
		{"closed here, then a reset", syscall.ECONNRESET, true, endClosedHere},
		{"protocol error", closed(websocket.StatusProtocolError), false, endFailed},
		{"something else", errors.New("tls: bad record MAC"), false, endFailed},
	} {
		if got := endOf(tc.err, tc.closedHere); got != tc.want {
			t.Errorf("%s: endOf = %d, want %d", tc.name, got, tc.want)
		}
	}
}
