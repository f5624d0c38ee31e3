package fanout

import (
	"encoding/json"
	"time"

	"github.com/foyerhq/foyer/waitingroom"
)

// The messages a sale room tells its shoppers (docs/protocol.md). Every
// message has a "type", one of internal/wire's. The server's own messages
// (welcome, time, pong, error) are server's; it puts StockMsg in the
// welcome and sends SoldOutMsg after it.
type (
	// StockMsg is the sale's stock: the stock message, and the welcome's
	// sale.stock (without type and all_held).
	StockMsg struct {
		Type  string `json:"type,omitempty"`
		Total int64  `json:"total"`
		Left  int64  `json:"left"` // neither held nor sold
		Held  int64  `json:"held"`
		Sold  int64  `json:"sold"`
		// AllHeld: nothing is left but units held by admitted shoppers; those
		// waiting may still get one if a hold expires.
		AllHeld bool `json:"all_held,omitempty"`
		// Products, in an event (docs/products.md), are how many units of
		// each product are left; absent for a single-product sale, whose
		// stock message is as it was.
		Products []ProductLeft `json:"products,omitempty"`
	}
	// ProductLeft is one product of an event in a stock message.
	ProductLeft struct {
		SKU  string `json:"sku"`
		Left int64  `json:"left"`
	}
	PositionMsg struct {
		Type     string `json:"type"`
		Position int64  `json:"position"` // 1 at the head
		Ahead    int64  `json:"ahead"`
		Waiting  int64  `json:"waiting"`       // everyone in the queue
		ETA      *ETA   `json:"eta,omitempty"` // absent while the queue cannot move
		// Fall, while the queue moves steadily, is how the client may
		// count the position down until the next one (push.go, Fall).
		Fall *Fall `json:"fall,omitempty"`
	}
	PrequeueMsg struct {
		Type     string    `json:"type"`
		Ticket   int64     `json:"ticket"`    // the prequeue ticket, to find oneself in the published draw
		SeedHash string    `json:"seed_hash"` // the commitment the draw will be checked against
		StartsAt time.Time `json:"starts_at"` // when the draw happens
	}
	StateMsg struct {
		Type  string            `json:"type"`
		State waitingroom.State `json:"state"`
		// Message is an operator's message to everyone, with a message
		// event: "" says the message was cleared, absent says nothing of it.
		Message  *string   `json:"message,omitempty"`
		Sale     *SaleNews `json:"sale,omitempty"`      // an operator changed the plan before the opening
		SeedHash string    `json:"seed_hash,omitempty"` // with prequeue: the draw's commitment
		Seed     string    `json:"seed,omitempty"`      // with open after a draw: the revealed seed
	}
	// SaleNews is a sale's plan as an operator's edit left it: the welcome's
	// sale fields that an edit can change.
	SaleNews struct {
		Name            string    `json:"name"`
		PriceCents      int64     `json:"price_cents"`
		ListPriceCents  int64     `json:"list_price_cents,omitempty"` // before the discount; absent: none
		Currency        string    `json:"currency"`
		StartsAt        time.Time `json:"starts_at"`
		EndsAt          time.Time `json:"ends_at"`
		PrequeueAt      time.Time `json:"prequeue_at"`
		PerShopperLimit int       `json:"per_shopper_limit"`
		// Products are an event's products as the edit left them, to
		// replace the welcome's sale.products; absent for a single-product
		// sale.
		Products []waitingroom.PlanProduct `json:"products,omitempty"`
	}
	AdmittedMsg struct {
		Type          string    `json:"type"`
		ReservationID string    `json:"reservation_id"`
		Token         string    `json:"token"`
		AdmittedAt    time.Time `json:"admitted_at"` // the admitter's tick that let the shopper out
		ExpiresAt     time.Time `json:"expires_at"`
		CheckoutURL   string    `json:"checkout_url"`
		// Checkout says what CheckoutURL is: wire.CheckoutFoyer (POST the
		// token to it) or wire.CheckoutShop (open it in the browser).
		Checkout string `json:"checkout"`
	}
	ExpiredMsg struct {
		Type          string `json:"type"`
		ReservationID string `json:"reservation_id"`
	}
	OrderMsg struct {
		Type          string `json:"type"`
		ReservationID string `json:"reservation_id"`
		OrderID       int64  `json:"order_id,omitempty"`
		Status        string `json:"status"`
		// SKU and Quantity, for an event's order (docs/products.md), are
		// the product it bought and how many units, for the receipt of a
		// page reloaded after its checkout; absent for a single-product
		// sale's, whose frames are as they were.
		SKU      string `json:"sku,omitempty"`
		Quantity int    `json:"quantity,omitempty"`
		// Payment, with a pending_payment order the shopper pays on the
		// page itself (Stripe), is what the page pays it with; absent
		// otherwise.
		Payment *OrderPayment `json:"payment,omitempty"`
	}
	// OrderPayment is what a shopper's page needs to pay its order with
	// Stripe's Payment Element: the account's publishable key and the
	// PaymentIntent's client secret. Only that shopper's tabs are told it.
	OrderPayment struct {
		Provider       string `json:"provider"` // wire.PaymentStripe
		PublishableKey string `json:"publishable_key"`
		ClientSecret   string `json:"client_secret"`
	}
	SoldOutMsg struct {
		Type string `json:"type"`
	}
	// LeftMsg answers a leave: the shopper's place is given up. The
	// shopper's other tabs that were waiting are told it too.
	LeftMsg struct {
		Type string `json:"type"`
	}
	// NoticeMsg tells the shoppers of a sale what is happening to the
	// service itself: the node cannot reach the sale's data (degraded), or
	// can again (recovered). The connection and the shopper's place stay.
	NoticeMsg struct {
		Type    string `json:"type"`
		Code    string `json:"code"` // NoticeDegraded or NoticeRecovered
		Message string `json:"message"`
	}
)

// encode marshals a message once; a broadcast sends the same bytes to all.
func encode(msg any) []byte {
	b, err := json.Marshal(msg)
	if err != nil {
		panic("encode protocol message: " + err.Error()) // our own types always encode
	}
	return b
}
