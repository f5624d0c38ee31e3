package shopperclient

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/coder/websocket"
)

// Wire is how a Client's Conns speak the protocol: over a WebSocket (the
// default), or over the HTTP fallback (docs/protocol.md, "The HTTP
// fallback"), for networks that block WebSockets. Both carry the same
// messages and end with the same close codes: a Conn, and a Shopper, work
// the same over either.
type Wire int

const (
	// OverWebSocket opens the sale's WebSocket.
	OverWebSocket Wire = iota
	// OverEvents opens the sale's stream of server-sent events, and posts
	// each client message to it.
	OverEvents
)

// SetWire sets how the Conns this client opens from now on speak the
// protocol. Default: OverWebSocket.
func (c *Client) SetWire(w Wire) { c.wire = w }

// WithWire makes a Shopper's connections speak the protocol over w.
func WithWire(w Wire) Option {
	return func(sh *Shopper) {
		for _, c := range sh.clients {
			c.SetWire(w)
		}
	}
}

// eventStream is a Conn over the HTTP fallback: the server's messages come
// as the events of one GET's answer, the client's go as POSTs naming the
// stream by its key and the shopper by its session token.
type eventStream struct {
	client  *Client
	postURL string
	body    io.ReadCloser
	lines   *bufio.Reader
	cancel  context.CancelFunc // ends the GET: the server sees the client leave

	mu    sync.Mutex
	token string // the session the POSTs carry; a session=new stream learns it from its welcome
}

// streamKey is a new random stream key (docs/protocol.md: 16 to 64 of
// A-Z a-z 0-9 - _).
func streamKey() string { return rand.Text() }

// openEvents opens the sale's event stream with the query given (session,
// join...). ctx bounds the opening only: the stream lasts until Close.
func (c *Client) openEvents(ctx context.Context, saleID, query, token string) (*Conn, error) {
	key := streamKey()
	base := c.base + "/v1/sales/" + url.PathEscape(saleID) + "/events?" + streamParam + "=" + key
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stopOpening := context.AfterFunc(ctx, cancel)
	req, err := http.NewRequestWithContext(sctx, http.MethodGet, base+"&"+query, nil)
	if err != nil {
		cancel()
		return nil, err
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := c.dial.Do(req)
	if !stopOpening() || err != nil {
		cancel()
		if err == nil {
			resp.Body.Close()
			err = ctx.Err()
		}
		return nil, fmt.Errorf("connect to sale %s: %w", saleID, err)
	}
	if resp.StatusCode != http.StatusOK {
		defer cancel()
		defer resp.Body.Close()
		var e struct {
			Error APIError `json:"error"`
		}
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		_ = json.Unmarshal(raw, &e)
		e.Error.Status, e.Error.RetryAfter = resp.StatusCode, resp.Header.Get("Retry-After")
		return nil, fmt.Errorf("connect to sale %s: %w", saleID, &e.Error)
	}
	ev := &eventStream{client: c, postURL: base, body: resp.Body, lines: bufio.NewReader(resp.Body), cancel: cancel, token: token}
	return &Conn{events: ev}, nil
}

// streamParam is the query parameter naming the stream (server/sse.go).
const streamParam = "stream"

// errStreamEnded is a stream that ended without an `event: close`: the
// network, or a proxy, as a WebSocket that closes with no close frame.
var errStreamEnded = errors.New("event stream ended without a close event")

// next reads the next protocol message: the data of the next event. An
// `event: close` ends the stream with its close code, as a
// websocket.CloseError, so that a client sorts the ends of both wires
// alike (websocket.CloseStatus). ctx ending ends the stream, as it ends a
// WebSocket read.
func (ev *eventStream) next(ctx context.Context) ([]byte, error) {
	stop := context.AfterFunc(ctx, ev.cancel)
	defer stop()
	var name string
	var data []byte
	for {
		line, err := ev.lines.ReadBytes('\n')
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if errors.Is(err, io.EOF) || errors.Is(err, context.Canceled) {
				return nil, errStreamEnded
			}
			return nil, fmt.Errorf("read event stream: %w", err)
		}
		line = bytes.TrimRight(line, "\r\n")
		switch {
		case len(line) == 0: // an event's end
			if data == nil {
				name = ""
				continue // a comment's (the heartbeat)
			}
			if name == "close" {
				return nil, closeErrorOf(data)
			}
			return data, nil
		case line[0] == ':': // a comment
		case bytes.HasPrefix(line, []byte("event:")):
			name = strings.TrimSpace(string(line[len("event:"):]))
		case bytes.HasPrefix(line, []byte("data:")):
			d := bytes.TrimPrefix(line[len("data:"):], []byte(" "))
			if data != nil {
				data = append(data, '\n')
			}
			data = append(data, d...)
		}
	}
}

// closeErrorOf is the close error an `event: close` carries.
func closeErrorOf(data []byte) error {
	var c struct {
		Code   int    `json:"code"`
		Reason string `json:"reason"`
	}
	if err := json.Unmarshal(data, &c); err != nil {
		return fmt.Errorf("read close event %q: %w", data, err)
	}
	return websocket.CloseError{Code: websocket.StatusCode(c.Code), Reason: c.Reason}
}

// learnSession keeps the session a session=new stream's welcome made: the
// POSTs carry it.
func (ev *eventStream) learnSession(m Message) {
	if s, ok := m.MadeSession(); ok {
		ev.mu.Lock()
		ev.token = s.Token
		ev.mu.Unlock()
	}
}

// send posts one client message to the stream.
func (ev *eventStream) send(ctx context.Context, b []byte) error {
	ev.mu.Lock()
	token := ev.token
	ev.mu.Unlock()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ev.postURL, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := ev.client.http.Do(req)
	if err != nil {
		return fmt.Errorf("post to event stream: %w", err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusNoContent {
		var e struct {
			Error APIError `json:"error"`
		}
		_ = json.Unmarshal(raw, &e)
		e.Error.Status, e.Error.RetryAfter = resp.StatusCode, resp.Header.Get("Retry-After")
		return fmt.Errorf("post to event stream: %w", &e.Error)
	}
	return nil
}

// close ends the stream: the server sees the client leave, as it sees a
// socket closed.
func (ev *eventStream) close() error {
	ev.cancel()
	return ev.body.Close()
}
