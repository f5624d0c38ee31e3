package server

import (
	"encoding/json"
	"time"

	"github.com/foyerhq/foyer/internal/fanout"
	"github.com/foyerhq/foyer/internal/wire"
	"github.com/foyerhq/foyer/waitingroom"
)

// Messages the server itself sends a client: its welcome, and its answers
// to time, ping and what fails. Every message has a "type". The words they
// are made of (message types, close codes) and the messages the client
// writes are in internal/wire, the one copy the Go client shares; what a
// sale room tells its shoppers (position, stock, admitted...) is in
// internal/fanout, which builds it.
type (
	welcomeMsg struct {
		Type       string   `json:"type"`
		Protocol   int      `json:"protocol"`
		ServerTime int64    `json:"server_time"` // unix ms
		Sale       saleView `json:"sale"`
		You        youView  `json:"you"`
		// Pow is the challenge to solve before joining, when the sale asks
		// for proof of work (server/pow.go).
		Pow *wire.PowChallenge `json:"pow,omitempty"`
	}
	saleView struct {
		ID         string `json:"id"`
		Name       string `json:"name"`
		PriceCents int64  `json:"price_cents"`
		// ListPriceCents is the price before the sale's discount, for a
		// page to strike through; left out when there is no discount.
		ListPriceCents int64             `json:"list_price_cents,omitempty"`
		Currency       string            `json:"currency"`
		State          waitingroom.State `json:"state"`
		StartsAt       time.Time         `json:"starts_at"`
		EndsAt         time.Time         `json:"ends_at"`
		Stock          fanout.StockMsg   `json:"stock"`
		Waiting        int64             `json:"waiting"`
		Message        string            `json:"message,omitempty"` // the operator's latest message
		PrequeueAt     time.Time         `json:"prequeue_at"`
		SeedHash       string            `json:"seed_hash,omitempty"` // the draw's commitment, from the prequeue on
		Seed           string            `json:"seed,omitempty"`      // the draw's seed, revealed at the start
		// Products are an event's products (docs/products.md), in the
		// operator's order; absent for a single-product sale.
		Products []productView `json:"products,omitempty"`
	}
	// productView is one product of an event as a page shows it: what it
	// is, its price, and how many units of it are left to choose.
	productView struct {
		SKU             string `json:"sku"`
		Name            string `json:"name"`
		PriceCents      int64  `json:"price_cents"`
		ListPriceCents  int64  `json:"list_price_cents,omitempty"` // before its discount; absent: none
		Stock           int64  `json:"stock"`
		Left            int64  `json:"left"`
		PerShopperLimit int    `json:"per_shopper_limit"`
		ImageURL        string `json:"image_url,omitempty"`
		Description     string `json:"description,omitempty"`
		// Sold is told operators only (the admin sale JSON).
		Sold *int64 `json:"sold,omitempty"`
	}
	youView struct {
		ShopperID string `json:"shopper_id"`
		// Session is the session the server made for this connection
		// (session=new): the client keeps it to reconnect with.
		Session *madeSessionView `json:"session,omitempty"`
	}
	madeSessionView struct {
		Token     string    `json:"token"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	timeMsg struct {
		Type       string `json:"type"`
		ClientTime int64  `json:"client_time"`
		ServerTime int64  `json:"server_time"`
	}
	pongMsg struct {
		Type string `json:"type"`
	}
	errorMsg struct {
		Type    string             `json:"type"`
		Code    string             `json:"code"`
		Message string             `json:"message"`
		Pow     *wire.PowChallenge `json:"pow,omitempty"` // with pow_*: a fresh challenge to join with
		// RetryAfter is in seconds, with rate_limited, busy and unavailable.
		RetryAfter int `json:"retry_after,omitempty"`
		// InReplyTo names the client message this error answers: "checkout"
		// for a checkout's refusal, absent otherwise.
		InReplyTo string `json:"in_reply_to,omitempty"`
	}
)

// writeTimeout bounds one write to a client the transport makes itself (a
// refusal, the live dashboard's) and a departure's record as a socket ends.
const writeTimeout = 5 * time.Second

// encode marshals a message once; a broadcast sends the same bytes to all.
func encode(msg any) []byte {
	b, err := json.Marshal(msg)
	if err != nil {
		panic("encode protocol message: " + err.Error()) // our own types always encode
	}
	return b
}

// encodeError is the error message a shopper is told for err, from the one
// error table, counted: the fan-out engine's rooms tell it to flagged
// shoppers.
func (s *Server) encodeError(err error) []byte {
	p := s.told(overWS, err)
	return encode(errorMsg{Type: wire.MsgError, Code: p.code, Message: describe(p, err), RetryAfter: retryAfterOf(err),
		InReplyTo: replyingTo(err)})
}
