package shop

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/foyerhq/foyer/examples/shop/reservation"
)

// The query parameters Foyer adds to the shop's checkout URL.
const (
	tokenParam = "foyer_token"
	saleParam  = "foyer_sale"
)

// Order is the shop's own order for a reservation it redeemed.
type Order struct {
	Ref           string // the shop's order reference, given to Foyer
	ReservationID string
	SaleID        string
	CustomerID    string // the signed-in customer, if any
	Status        string // "pending" while Foyer is asked, "paid" once redeemed
	Events        []string
}

// checkoutPage is where Foyer sends an admitted shopper:
// GET /checkout?foyer_token=...&foyer_sale=.... Anybody can type that URL,
// so nothing is shown before the token is verified.
func (s *Shop) checkoutPage(w http.ResponseWriter, r *http.Request) {
	token, saleID := r.URL.Query().Get(tokenParam), r.URL.Query().Get(saleParam)
	res, err := s.verifier.Verify(token, saleID)
	if err != nil {
		s.refuseToken(w, err)
		return
	}
	cust, _ := s.signedIn(r)
	s.render(w, http.StatusOK, checkoutTmpl, map[string]any{"Res": res, "Token": token, "Customer": cust.ID,
		"Left": res.ExpiresAt.Sub(s.now()).Round(time.Second)})
}

// pay takes the money (here: nothing) and redeems the reservation. The
// token is verified again: the form came back from the browser.
func (s *Shop) pay(w http.ResponseWriter, r *http.Request) {
	token, saleID := r.PostFormValue(tokenParam), r.PostFormValue(saleParam)
	res, err := s.verifier.Verify(token, saleID)
	if err != nil {
		s.refuseToken(w, err)
		return
	}
	ref := OrderRef(res.ID)
	// The order is written before Foyer is asked: Foyer's order.paid can
	// arrive before its answer to the redeem does, and must find it.
	cust, _ := s.signedIn(r)
	s.mu.Lock()
	o, paying := s.orders[res.ID], false
	if o == nil {
		o, paying = &Order{Ref: ref, ReservationID: res.ID, SaleID: saleID, CustomerID: cust.ID, Status: "pending"}, true
		s.orders[res.ID] = o
	}
	s.mu.Unlock()
	// One key per reservation, and the body is the same on every retry
	// (the order reference comes from the reservation too): a retry after
	// a timeout or a second click gets Foyer's first answer, replayed.
	redeemed, err := s.foyer.Redeem(r.Context(), res.ID, "redeem-"+res.ID, saleID, token, ref)
	if err != nil {
		// Refused, nothing was sold: no order (unless another click of
		// the customer's, still being answered, made it). Unanswered, it
		// may have been: the order stays pending until a retry or
		// order.paid says.
		var api *APIError
		s.mu.Lock()
		if errors.As(err, &api) && paying && o.Status == "pending" {
			delete(s.orders, res.ID)
		}
		s.mu.Unlock()
		s.refuseFoyer(w, err)
		return
	}
	s.mu.Lock()
	o.Status = "paid"
	s.mu.Unlock()
	s.render(w, http.StatusOK, paidTmpl, map[string]any{"Ref": ref, "Redeemed": redeemed})
}

// release gives the unit back: the customer changed their mind.
func (s *Shop) release(w http.ResponseWriter, r *http.Request) {
	token, saleID := r.PostFormValue(tokenParam), r.PostFormValue(saleParam)
	res, err := s.verifier.Verify(token, saleID)
	if err != nil {
		s.refuseToken(w, err)
		return
	}
	if err := s.foyer.Release(r.Context(), res.ID, saleID, token); err != nil {
		s.refuseFoyer(w, err)
		return
	}
	s.render(w, http.StatusOK, releasedTmpl, nil)
}

// OrderRef is the shop's order reference for a reservation: the same for
// every retry of its redeem.
func OrderRef(reservationID string) string {
	sum := sha256.Sum256([]byte(reservationID))
	return "SHOP-" + hex.EncodeToString(sum[:6])
}

func (s *Shop) refuseToken(w http.ResponseWriter, err error) {
	msg := "This link is not a valid reservation."
	switch {
	case errors.Is(err, reservation.ErrExpired):
		msg = "Your hold has expired; the unit went back to the queue."
	case errors.Is(err, reservation.ErrWrongSale):
		msg = "This reservation is for another sale."
	}
	s.render(w, http.StatusForbidden, problemTmpl, map[string]any{"Message": msg, "Detail": err.Error()})
}

func (s *Shop) refuseFoyer(w http.ResponseWriter, err error) {
	var api *APIError
	if !errors.As(err, &api) {
		s.render(w, http.StatusBadGateway, problemTmpl, map[string]any{"Message": "The queue did not answer; try again.",
			"Detail": err.Error()})
		return
	}
	msg := map[string]string{
		"reservation_expired": "Your hold has expired; the unit went back to the queue.",
		"token_expired":       "Your hold has expired; the unit went back to the queue.",
		"token_reused":        "This reservation was already used.",
		"token_wrong_sale":    "This reservation is for another sale.",
	}[api.Code]
	if msg == "" {
		msg = fmt.Sprintf("The queue refused: %s.", api.Code)
	}
	s.render(w, http.StatusConflict, problemTmpl, map[string]any{"Message": msg, "Detail": err.Error()})
}

// Orders are the shop's orders, by reference.
func (s *Shop) Orders() []Order {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Order, 0, len(s.orders))
	for _, o := range s.orders {
		c := *o
		c.Events = slices.Clone(o.Events)
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b Order) int { return strings.Compare(a.Ref, b.Ref) })
	return out
}
