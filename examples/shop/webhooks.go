package shop

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"time"
)

// maxWebhookBody is the largest webhook body taken; Foyer's are far smaller.
const maxWebhookBody = 1 << 20

// Event is a webhook Foyer delivered: order.paid, reservation.redeemed, ...
type Event struct {
	ID         string          `json:"id"`
	Type       string          `json:"type"`
	CreatedAt  time.Time       `json:"created_at"`
	SaleID     string          `json:"sale_id"`
	Data       json.RawMessage `json:"data"`
	ReceivedAt time.Time       `json:"-"`
}

// webhook takes a delivery from Foyer at POST /webhooks/foyer. Delivery is
// at least once: a delivery whose event id was seen already is answered 200
// and not recorded again. A bad signature is 400, and Foyer retries it
// (with the right secret configured, the retry passes).
func (s *Shop) webhook(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxWebhookBody))
	if err != nil {
		http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
		return
	}
	// Verify before reading anything of the body: until then it is anybody's.
	if err := VerifySignature(s.cfg.WebhookSecret, r.Header.Get("Foyer-Signature"), body, s.now()); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var ev Event
	if err := json.Unmarshal(body, &ev); err != nil || ev.ID == "" || ev.Type == "" {
		http.Error(w, "not a Foyer event", http.StatusBadRequest)
		return
	}
	ev.ReceivedAt = s.now()
	if s.record(ev) {
		s.apply(ev)
		if s.cfg.OnEvent != nil {
			s.cfg.OnEvent(ev)
		}
	}
	w.WriteHeader(http.StatusOK)
}

// record keeps the event unless its id was seen, and reports whether it was new.
func (s *Shop) record(ev Event) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seen[ev.ID] {
		return false
	}
	s.seen[ev.ID] = true
	s.events = append(s.events, ev)
	return true
}

// apply notes the event on the shop's order of its reservation, so the
// order page shows what Foyer confirmed (order.paid once Foyer's worker has
// written its order row).
//
// It is also where the shop learns whose reservation it sold. The token's
// sub is Foyer's shopper id (c_ and an HMAC the shop cannot compute), so at
// pay time the shop cannot tell whether the reservation is its signed-in
// customer's: a customer could pay with a link another one passed on. Foyer's
// events carry the shop's own customer_id of the reservation's shopper
// (with a sale whose identity is required, always): an order whose
// customer_id is not the customer who paid is set aside, customer_mismatch,
// not shipped; a real shop cancels and refunds it.
func (s *Shop) apply(ev Event) {
	var d struct {
		ReservationID string `json:"reservation_id"`
		CustomerID    string `json:"customer_id"`
		Status        string `json:"status"`
		ShopOrderRef  string `json:"shop_order_ref"`
	}
	if err := json.Unmarshal(ev.Data, &d); err != nil || d.ReservationID == "" {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if o := s.orders[d.ReservationID]; o != nil {
		o.Events = append(o.Events, ev.Type)
		switch {
		case o.Status == statusMismatch:
		case d.CustomerID != "" && d.CustomerID != o.CustomerID:
			o.Status = statusMismatch
		case ev.Type == "order.paid":
			o.Status = statusPaid // also when the redeem's answer was lost
		}
	}
}

// Events are the webhooks received, each event once, in arrival order.
func (s *Shop) Events() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.events)
}
