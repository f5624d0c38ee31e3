// Package shopperclient speaks Foyer's shopper protocol (docs/protocol.md)
// from Go. Client and Conn are the plain parts: sessions, one WebSocket (kept
// alive by pings), and checkout. Shopper builds on them what a real app needs:
// it stays connected across node drains and network failures, keeps its place
// with its session, and syncs its clock with the server's. Tests and the load
// generator use it, and it is the reference a mobile client ports.
package shopperclient

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/coder/websocket"

	"github.com/foyerhq/foyer/internal/wire"
)

// Client talks to one Foyer deployment.
type Client struct {
	base string
	http *http.Client // API calls: bounded by a timeout
	dial *http.Client // WebSocket handshakes: coder/websocket wants no client timeout, the context bounds them
	// pingEvery is how often a Conn sends a keepalive ping; zero means
	// PingInterval. This package's tests shorten it, and the bench sets it
	// (SetPingInterval) to its bare baseline's clients' interval.
	pingEvery time.Duration
	// wire is how Conns speak the protocol (SetWire): a WebSocket by default.
	wire Wire
}

// New returns a client for the deployment at baseURL (http or https).
func New(baseURL string) *Client {
	return NewWithTransport(baseURL, http.DefaultTransport)
}

// NewWithTransport returns a client whose HTTP requests and WebSockets all
// go through t: the load generator binds them to a source address this way.
func NewWithTransport(baseURL string, t http.RoundTripper) *Client {
	return &Client{
		base: strings.TrimRight(baseURL, "/"),
		http: &http.Client{Timeout: 30 * time.Second, Transport: t},
		dial: &http.Client{Transport: t},
	}
}

// Session is an anonymous visitor's identity.
type Session struct {
	ShopperID string    `json:"shopper_id"`
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
}

// APIError is an error answer of the HTTP API.
type APIError struct {
	Status   int
	Ticket   int64  `json:"ticket"`
	SeedHash string `json:"seed_hash"`
	Seed     string `json:"seed"`

	Code    string `json:"code"`
	Message string `json:"message"`
	// RetryAfter is the answer's Retry-After header (seconds), if any.
	RetryAfter string `json:"-"`
}

func (e *APIError) Error() string {
	return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message)
}

// NewSession asks for an anonymous visitor session.
func (c *Client) NewSession(ctx context.Context) (Session, error) {
	var s Session
	err := c.do(ctx, http.MethodPost, c.base+"/v1/sessions", nil, &s)
	return s, err
}

// CheckoutResult is the answer to a successful checkout.
type CheckoutResult struct {
	ReservationID string `json:"reservation_id"`
	Status        string `json:"status"`
	Quantity      int    `json:"quantity"`
	// Product is the SKU an event's checkout bought; "" in a
	// single-product sale.
	Product string `json:"product,omitempty"`
}

// Checkout confirms a reservation with the token and URL of an admitted message.
func (c *Client) Checkout(ctx context.Context, checkoutURL, token string) (CheckoutResult, error) {
	return c.CheckoutProduct(ctx, checkoutURL, token, "", 1)
}

// CheckoutProduct is Checkout of quantity units of the product an event's
// shopper chose (its SKU, from the sale's products); "" names none, as a
// single-product sale's checkout does (docs/products.md).
func (c *Client) CheckoutProduct(ctx context.Context, checkoutURL, token, product string, quantity int) (CheckoutResult, error) {
	body := map[string]any{"token": token}
	if product != "" {
		body["product"] = product
	}
	if quantity != 1 {
		body["quantity"] = quantity
	}
	var r CheckoutResult
	err := c.do(ctx, http.MethodPost, checkoutURL, body, &r)
	return r, err
}

// do sends a JSON request and decodes the answer, or returns an *APIError.
func (c *Client) do(ctx context.Context, method, url string, body, into any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, url, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s %s: read answer: %w", method, url, err)
	}
	if resp.StatusCode >= 300 {
		var e struct {
			Error APIError `json:"error"`
		}
		_ = json.Unmarshal(raw, &e)
		e.Error.Status, e.Error.RetryAfter = resp.StatusCode, resp.Header.Get("Retry-After")
		return &e.Error
	}
	return json.Unmarshal(raw, into)
}

// Message is any message from the server; which fields are set depends on Type.
type Message struct {
	Type string `json:"type"`

	ServerTime int64   `json:"server_time"`
	ClientTime int64   `json:"client_time"`
	Sale       SaleRef `json:"sale"`

	// You, in a welcome, is who the connection is for, and the session
	// the server made for it, if it made one (see MadeSession).
	You You `json:"you"`

	Position int64 `json:"position"`
	Ahead    int64 `json:"ahead"`
	Waiting  int64 `json:"waiting"`

	Total int64 `json:"total"`
	Left  int64 `json:"left"`
	Held  int64 `json:"held"`
	Sold  int64 `json:"sold"`
	// Products, in the stock message of an event (docs/products.md), are
	// how many units of each product are left (SKU and Left alone).
	Products []Product `json:"products"`

	State string `json:"state"`

	ReservationID string    `json:"reservation_id"`
	Token         string    `json:"token"`
	AdmittedAt    time.Time `json:"admitted_at"`
	ExpiresAt     time.Time `json:"expires_at"`
	CheckoutURL   string    `json:"checkout_url"`
	Checkout      string    `json:"checkout"` // wire.CheckoutFoyer or wire.CheckoutShop: what CheckoutURL is
	OrderID       int64     `json:"order_id"`
	Status        string    `json:"status"`
	// SKU and Quantity, in the order message of an event
	// (docs/products.md), are the product the checkout bought and how many
	// units; empty for a single-product sale's.
	SKU      string `json:"sku"`
	Quantity int    `json:"quantity"`

	Ticket   int64  `json:"ticket"`
	SeedHash string `json:"seed_hash"`
	Seed     string `json:"seed"`

	// Code and Message are an error's, or a notice's: degraded while the
	// servers cannot reach the sale's data (stay connected, the place is
	// kept), recovered once they can again.
	Code    string `json:"code"`
	Message string `json:"message"`
	// RetryAfter, with the errors rate_limited, busy and unavailable, is how
	// many seconds to wait before trying again.
	RetryAfter int `json:"retry_after"`
	// InReplyTo, in an error, names the message it answers: "checkout"
	// for a checkout sent over the socket (Conn.Checkout).
	InReplyTo string `json:"in_reply_to"`

	// Pow, in a welcome or a pow_* error, is the proof of work the sale asks
	// before joining. Conn.Join solves it (see pow.go).
	Pow *PowChallenge `json:"pow"`

	// Payment, in an order pending_payment that the shopper pays on the
	// page (Stripe's Payment Element), is what the page pays it with.
	Payment *OrderPayment `json:"payment"`

	Raw json.RawMessage `json:"-"`
}

// OrderPayment is an order message's payment: the provider ("stripe"),
// its publishable key and the payment's client secret.
type OrderPayment struct {
	Provider       string `json:"provider"`
	PublishableKey string `json:"publishable_key"`
	ClientSecret   string `json:"client_secret"`
}

// The types of Message's objects are named: encoding/json looks the pointer
// type of an unnamed struct up in a global map at every field, and a
// welcome took 15% longer to decode.

// SaleRef is the sale a welcome is about, or, in a state message after an
// operator's edit before the opening, its plan as edited.
type SaleRef struct {
	ID    string `json:"id"`
	State string `json:"state"`
	// Products are an event's products (docs/products.md): in a welcome,
	// each with what a page shows of it and its stock and left; in the
	// push of an edited plan, as the edit left them.
	Products []Product `json:"products"`
}

// Product is one product of an event; which fields are set depends on
// the message that carries it.
type Product struct {
	SKU             string `json:"sku"`
	Name            string `json:"name"`
	PriceCents      int64  `json:"price_cents"`
	ListPriceCents  int64  `json:"list_price_cents"`
	Stock           int64  `json:"stock"`
	Left            int64  `json:"left"`
	PerShopperLimit int    `json:"per_shopper_limit"`
	ImageURL        string `json:"image_url"`
	Description     string `json:"description"`
}

// You is who a welcome's connection is for.
type You struct {
	ShopperID string   `json:"shopper_id"`
	Session   *Session `json:"session"`
}

// MadeSession is the session the server made for the connection (Arrive
// without a session), from its welcome.
func (m Message) MadeSession() (Session, bool) {
	if m.Type != wire.MsgWelcome || m.You.Session == nil {
		return Session{}, false
	}
	s := *m.You.Session
	s.ShopperID = m.You.ShopperID
	return s, true
}

// Conn is a shopper's WebSocket to one sale. From Connect until Close or
// CloseNow it pings the server every PingInterval (see keepalive.go).
type Conn struct {
	ws      *websocket.Conn // nil over the HTTP fallback
	events  *eventStream    // the HTTP fallback's stream (SetWire(OverEvents)); nil over a WebSocket
	pinging keepalive
	work    powState // the challenge to join with, and whether a refused join is retried
}

// Connect opens the WebSocket of a sale with a session.
func (c *Client) Connect(ctx context.Context, saleID string, s Session) (*Conn, error) {
	return c.open(ctx, saleID, "session="+url.QueryEscape(s.Token), s.Token)
}

// Arrive opens the WebSocket of a sale and joins at once, in one request
// (join=1): the welcome comes first, then the join's answer, as if Join had
// been called. With no session (s nil) the server makes one (session=new)
// and sends it in the welcome: see Message.MadeSession. When the sale asks
// for proof of work, the server answers the join with a challenge, and Next
// joins again with its solution.
func (c *Client) Arrive(ctx context.Context, saleID string, s *Session) (*Conn, error) {
	session, token := "new", ""
	if s != nil {
		session, token = url.QueryEscape(s.Token), s.Token
	}
	conn, err := c.open(ctx, saleID, "session="+session+"&join=1", token)
	if err != nil {
		return nil, err
	}
	conn.work.mu.Lock()
	conn.work.retry = true
	conn.work.mu.Unlock()
	return conn, nil
}

// open opens the WebSocket of a sale with the query given, or its event
// stream (SetWire), whose posts carry the session token.
func (c *Client) open(ctx context.Context, saleID, query, token string) (*Conn, error) {
	if c.wire == OverEvents {
		conn, err := c.openEvents(ctx, saleID, query, token)
		if err != nil {
			return nil, err
		}
		conn.pinging.start(conn, cmp.Or(c.pingEvery, PingInterval))
		return conn, nil
	}
	addr := "ws" + strings.TrimPrefix(c.base, "http") + "/v1/sales/" + saleID + "/ws?" + query
	ws, resp, err := websocket.Dial(ctx, addr, &websocket.DialOptions{Subprotocols: []string{wire.Subprotocol}, HTTPClient: c.dial})
	if err != nil {
		// Refused before the upgrade (busy, rate_limited, blocked, ...):
		// the answer is the API's JSON error, with Retry-After.
		if resp != nil && resp.StatusCode >= 300 && resp.StatusCode != http.StatusSwitchingProtocols {
			var e struct {
				Error APIError `json:"error"`
			}
			if resp.Body != nil {
				raw, _ := io.ReadAll(resp.Body)
				_ = json.Unmarshal(raw, &e)
			}
			e.Error.Status, e.Error.RetryAfter = resp.StatusCode, resp.Header.Get("Retry-After")
			return nil, fmt.Errorf("connect to sale %s: %w", saleID, &e.Error)
		}
		return nil, fmt.Errorf("connect to sale %s: %w", saleID, err)
	}
	conn := &Conn{ws: ws}
	conn.pinging.start(conn, cmp.Or(c.pingEvery, PingInterval))
	return conn, nil
}

// Next waits for the next message from the server.
func (c *Conn) Next(ctx context.Context) (Message, error) {
	data, err := c.read(ctx)
	if err != nil {
		return Message{}, err
	}
	var m Message
	if err := json.Unmarshal(data, &m); err != nil {
		return Message{}, fmt.Errorf("decode server message: %w", err)
	}
	m.Raw = data
	if c.events != nil {
		c.events.learnSession(m)
	}
	if c.retriedJoin(ctx, m) {
		return c.Next(ctx) // the error is answered: the retried join's answer follows
	}
	return m, nil
}

// read reads the next message off the wire.
func (c *Conn) read(ctx context.Context) ([]byte, error) {
	if c.events != nil {
		return c.events.next(ctx)
	}
	_, data, err := c.ws.Read(ctx)
	return data, err
}

// Send sends one message, given as a value that encodes to JSON.
func (c *Conn) Send(ctx context.Context, msg any) error {
	b, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	return c.SendRaw(ctx, b)
}

// SendRaw sends bytes as one text message, as they are.
func (c *Conn) SendRaw(ctx context.Context, b []byte) error {
	if c.events != nil {
		return c.events.send(ctx, b)
	}
	return c.ws.Write(ctx, websocket.MessageText, b)
}

// Checkout checks out the admitted token over the socket
// (docs/protocol.md): the answer comes as the next order message of its
// reservation, "confirmed" (or the order as it stands, sent again), or as
// an error whose InReplyTo is "checkout". One HTTP request fewer than
// Client.Checkout, for a tab whose socket is open anyway.
func (c *Conn) Checkout(ctx context.Context, token string) error {
	return c.Send(ctx, wire.ClientMsg{Type: wire.CmdCheckout, Token: token})
}

// Join asks for a place in the queue. When the sale asks for proof of work,
// it first solves the challenge of the welcome (which Next must have read),
// and Next retries the join once, with the fresh challenge, if the server
// refuses the solution (see pow.go).
func (c *Conn) Join(ctx context.Context) error {
	c.work.mu.Lock()
	c.work.retry = true
	c.work.mu.Unlock()
	return c.sendJoin(ctx)
}

// Close stops the keepalive and closes the connection normally.
func (c *Conn) Close() error {
	if c.events != nil {
		return c.pinging.stopAround(c.events.close)
	}
	return c.pinging.stopAround(func() error { return c.ws.Close(websocket.StatusNormalClosure, "") })
}

// CloseNow stops the keepalive and drops the connection without a closing
// handshake.
func (c *Conn) CloseNow() error {
	if c.events != nil {
		return c.pinging.stopAround(c.events.close)
	}
	return c.pinging.stopAround(c.ws.CloseNow)
}
