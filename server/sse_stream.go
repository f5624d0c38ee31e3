package server

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// sseStream is a shopper's connection over the HTTP fallback, as the node's
// writers write to it (fanout.Frames): each protocol message one
// server-sent event, and the close code an `event: close` before the
// response ends. The GET that opened it keeps its handler waiting until the
// stream ends (closing), since an HTTP response, unlike a hijacked socket,
// is written only while its handler runs.
type sseStream struct {
	key string // the stream key the client chose: its messages are posted to it
	w   http.ResponseWriter
	rc  *http.ResponseController

	mu    sync.Mutex // orders the writes; guards ended
	ended bool       // the handler has returned, or is about to: w is not ours any more

	closing   chan struct{} // closed by Close or CloseNow: the handler ends the response
	closeOnce sync.Once
	ready     chan struct{} // closed once the stream is open and sess set (sseStreams.opened)

	// answering makes the messages posted to the stream answered one at a
	// time, as a WebSocket's reader answers its frames.
	answering sync.Mutex
	// sess is the stream's session once it is open; nil while it opens.
	// Guarded by the registry's lock (sseStreams).
	sess *session
}

func newSSEStream(key string, w http.ResponseWriter) *sseStream {
	return &sseStream{key: key, w: w, rc: http.NewResponseController(w), closing: make(chan struct{}), ready: make(chan struct{})}
}

// Event framing (the WHATWG server-sent events format). A protocol message
// is compact JSON, which never holds a raw line break (encoding/json
// escapes them), so one data line carries it whole.
var (
	dataField   = []byte("data: ")
	eventEnd    = []byte("\n\n")
	closeEvent  = []byte("event: close\n")
	heartbeatAt = []byte(": heartbeat\n\n")
)

// begin answers the GET: the stream's headers, sent at once so that the
// browser's EventSource opens before the first message. X-Accel-Buffering
// keeps nginx (and proxies that honour it) from holding events back.
func (st *sseStream) begin() error {
	h := st.w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	st.w.WriteHeader(http.StatusOK)
	return st.rc.Flush()
}

// WriteFrames writes msgs as one event each, then flushes them in one
// write, within timeout.
func (st *sseStream) WriteFrames(msgs [][]byte, timeout time.Duration) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.ended {
		return net.ErrClosed
	}
	return st.writeLocked(timeout, func() error {
		for _, msg := range msgs {
			if err := st.writeEvent(nil, msg); err != nil {
				return err
			}
		}
		return nil
	})
}

// writeLocked runs write, then flushes, under a write deadline. st.mu is held.
func (st *sseStream) writeLocked(timeout time.Duration, write func() error) error {
	// A server whose HTTP/1 connections or HTTP/2 streams cannot take a
	// deadline still writes: the deadline is a bound, not the point.
	_ = st.rc.SetWriteDeadline(time.Now().Add(timeout))
	err := write()
	if err == nil {
		err = st.rc.Flush()
	}
	if err == nil {
		_ = st.rc.SetWriteDeadline(time.Time{})
	}
	return err
}

// writeEvent writes one event: its name line, if it has one, and data.
func (st *sseStream) writeEvent(name, data []byte) error {
	for _, part := range [][]byte{name, dataField, data, eventEnd} {
		if _, err := st.w.Write(part); err != nil {
			return err
		}
	}
	return nil
}

// Write writes one message as an event (a refusal told before the stream's
// Conn exists, as a WebSocket's is).
func (st *sseStream) Write(_ context.Context, _ websocket.MessageType, p []byte) error {
	return st.WriteFrames([][]byte{p}, writeTimeout)
}

// closeData is an `event: close`'s data: the WebSocket close code and
// reason a socket would have closed with (docs/protocol.md), so that a
// client acts on both transports alike.
type closeData struct {
	Code   int    `json:"code"`
	Reason string `json:"reason,omitempty"`
}

// Close tells the client the close code, then ends the response.
func (st *sseStream) Close(code websocket.StatusCode, reason string) error {
	data, err := json.Marshal(closeData{Code: int(code), Reason: reason})
	if err != nil {
		return err
	}
	st.mu.Lock()
	if !st.ended {
		err = st.writeLocked(writeTimeout, func() error { return st.writeEvent(closeEvent, data) })
	}
	st.mu.Unlock()
	st.end()
	return err
}

// CloseNow ends the response without a word.
func (st *sseStream) CloseNow() error {
	st.end()
	return nil
}

// end asks the handler to end the response.
func (st *sseStream) end() { st.closeOnce.Do(func() { close(st.closing) }) }

// heartbeat writes a comment, which EventSource ignores, so that proxies on
// the way see a live response: the WebSocket's pong, without a message.
func (st *sseStream) heartbeat() error {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.ended {
		return net.ErrClosed
	}
	return st.writeLocked(writeTimeout, func() error {
		_, err := st.w.Write(heartbeatAt)
		return err
	})
}

// finish marks the response as the handler's no more: writes that come
// later (a writer with a last batch) are dropped. Called before the
// handler returns, it waits for a write under way.
func (st *sseStream) finish() {
	st.mu.Lock()
	st.ended = true
	st.mu.Unlock()
	st.end()
}

// isEnded reports whether the stream's response has ended.
func (st *sseStream) isEnded() bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.ended
}
