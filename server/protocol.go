package server

import (
	"time"

	"github.com/foyerhq/foyer/internal/fanout"
	"github.com/foyerhq/foyer/internal/wire"
	"github.com/foyerhq/foyer/waitingroom"
)

// Messages from server to client. Every message has a "type". The words
// they are made of (message types, close codes) and the messages the client
// writes are in internal/wire, the one copy the Go client shares.
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
		ID         string            `json:"id"`
		Name       string            `json:"name"`
		PriceCents int64             `json:"price_cents"`
		Currency   string            `json:"currency"`
		State      waitingroom.State `json:"state"`
		StartsAt   time.Time         `json:"starts_at"`
		EndsAt     time.Time         `json:"ends_at"`
		Stock      stockView         `json:"stock"`
		Waiting    int64             `json:"waiting"`
		Message    string            `json:"message,omitempty"` // the operator's latest message
		PrequeueAt time.Time         `json:"prequeue_at"`
		SeedHash   string            `json:"seed_hash,omitempty"` // the draw's commitment, from the prequeue on
		Seed       string            `json:"seed,omitempty"`      // the draw's seed, revealed at the start
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
	stockView struct {
		Type  string `json:"type,omitempty"`
		Total int64  `json:"total"`
		Left  int64  `json:"left"` // neither held nor sold
		Held  int64  `json:"held"`
		Sold  int64  `json:"sold"`
		// AllHeld: nothing is left but units held by admitted shoppers; those
		// waiting may still get one if a hold expires.
		AllHeld bool `json:"all_held,omitempty"`
	}
	positionMsg struct {
		Type     string      `json:"type"`
		Position int64       `json:"position"` // 1 at the head
		Ahead    int64       `json:"ahead"`
		Waiting  int64       `json:"waiting"`       // everyone in the queue
		ETA      *fanout.ETA `json:"eta,omitempty"` // absent while the queue cannot move
	}
	prequeueMsg struct {
		Type     string    `json:"type"`
		Ticket   int64     `json:"ticket"`    // the prequeue ticket, to find oneself in the published draw
		SeedHash string    `json:"seed_hash"` // the commitment the draw will be checked against
		StartsAt time.Time `json:"starts_at"` // when the draw happens
	}
	stateMsg struct {
		Type     string            `json:"type"`
		State    waitingroom.State `json:"state"`
		Message  string            `json:"message,omitempty"`   // an operator's message to everyone
		SeedHash string            `json:"seed_hash,omitempty"` // with prequeue: the draw's commitment
		Seed     string            `json:"seed,omitempty"`      // with open after a draw: the revealed seed
	}
	admittedMsg struct {
		Type          string    `json:"type"`
		ReservationID string    `json:"reservation_id"`
		Token         string    `json:"token"`
		AdmittedAt    time.Time `json:"admitted_at"` // the admitter's tick that let the shopper out
		ExpiresAt     time.Time `json:"expires_at"`
		CheckoutURL   string    `json:"checkout_url"`
	}
	expiredMsg struct {
		Type          string `json:"type"`
		ReservationID string `json:"reservation_id"`
	}
	orderMsg struct {
		Type          string `json:"type"`
		ReservationID string `json:"reservation_id"`
		OrderID       int64  `json:"order_id,omitempty"`
		Status        string `json:"status"`
	}
	soldOutMsg struct {
		Type string `json:"type"`
	}
	timeMsg struct {
		Type       string `json:"type"`
		ClientTime int64  `json:"client_time"`
		ServerTime int64  `json:"server_time"`
	}
	pongMsg struct {
		Type string `json:"type"`
	}
	// leftMsg answers a leave: the shopper's place is given up. The
	// shopper's other tabs that were waiting are told it too.
	leftMsg struct {
		Type string `json:"type"`
	}
	// noticeMsg tells the shoppers of a sale what is happening to the
	// service itself: the node cannot reach the sale's data (degraded), or
	// can again (recovered). The connection and the shopper's place stay.
	noticeMsg struct {
		Type    string `json:"type"`
		Code    string `json:"code"` // noticeDegraded or noticeRecovered
		Message string `json:"message"`
	}
	errorMsg struct {
		Type    string             `json:"type"`
		Code    string             `json:"code"`
		Message string             `json:"message"`
		Pow     *wire.PowChallenge `json:"pow,omitempty"` // with pow_*: a fresh challenge to join with
		// RetryAfter is in seconds, with rate_limited, busy and unavailable.
		RetryAfter int `json:"retry_after,omitempty"`
	}
)
