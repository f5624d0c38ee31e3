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
	CustomerID    string // the signed-in customer who paid
	// Status is "pending" while Foyer is asked, "paid" once redeemed, and
	// "customer_mismatch" when Foyer's event says the reservation was
	// another customer's (see checkCustomer): not to be shipped.
	Status string
	Events []string
}

// The order statuses.
const (
	statusPending  = "pending"
	statusPaid     = "paid"
	statusMismatch = "customer_mismatch"
)

// verify checks a reservation token against the sales this shop sells
// (Config.SaleIDs), never against the foyer_sale the request names: that
// one only has to agree with the token.
func (s *Shop) verify(token, saleID string) (reservation.Reservation, error) {
	res, err := s.verifier.Verify(token, s.cfg.SaleIDs...)
	if err != nil {
		return reservation.Reservation{}, err
	}
	if saleID != res.SaleID {
		return reservation.Reservation{}, fmt.Errorf("%w: the link names sale %q, the token %q", reservation.ErrWrongSale, saleID, res.SaleID)
	}
	return res, nil
}

// checkoutPage is where Foyer sends an admitted shopper:
// GET /checkout?foyer_token=...&foyer_sale=.... Anybody can type that URL,
// so nothing is shown before the token is verified. A customer who is not
// signed in is asked to, and comes back here.
func (s *Shop) checkoutPage(w http.ResponseWriter, r *http.Request) {
	token, saleID := r.URL.Query().Get(tokenParam), r.URL.Query().Get(saleParam)
	res, err := s.verify(token, saleID)
	if err != nil {
		s.refuseToken(w, err)
		return
	}
	cust, _ := s.signedIn(r)
	s.render(w, http.StatusOK, checkoutTmpl, map[string]any{"Res": res, "Token": token, "Customer": cust.ID,
		"CSRF": cust.CSRF, "Next": r.URL.RequestURI(), "Left": res.ExpiresAt.Sub(s.now()).Round(time.Second)})
}

// pay takes the money (here: nothing) and redeems the reservation, for the
// signed-in customer whose form it is (signedInForm). The token is verified
// again: the form came back from the browser.
func (s *Shop) pay(w http.ResponseWriter, r *http.Request) {
	cust, ok := s.signedInForm(w, r)
	if !ok {
		return
	}
	token, saleID := r.PostFormValue(tokenParam), r.PostFormValue(saleParam)
	res, err := s.verify(token, saleID)
	if err != nil {
		s.refuseToken(w, err)
		return
	}
	// Foyer names the customer whose session was admitted (cid): a link
	// passed on to another customer is refused before any money is taken.
	// A customer's shopper (c_) whose token names nobody is refused too:
	// there is nothing to compare.
	if (res.CustomerID != "" || strings.HasPrefix(res.ShopperID, "c_")) && res.CustomerID != cust.ID {
		s.render(w, http.StatusForbidden, problemTmpl, map[string]any{"Message": "This reservation is another customer's."})
		return
	}
	ref := OrderRef(res.ID)
	// The order is written before Foyer is asked: Foyer's order.paid can
	// arrive before its answer to the redeem does, and must find it. The
	// first customer to pay a reservation has it: another one's click
	// would get the first one's redeem replayed, and a page saying it paid.
	s.mu.Lock()
	o, paying := s.orders[res.ID], false
	if o == nil {
		o, paying = &Order{Ref: ref, ReservationID: res.ID, SaleID: res.SaleID, CustomerID: cust.ID, Status: statusPending}, true
		s.orders[res.ID] = o
	}
	owner := o.CustomerID
	s.mu.Unlock()
	if owner != cust.ID {
		s.render(w, http.StatusForbidden, problemTmpl, map[string]any{"Message": "This reservation is another customer's."})
		return
	}
	// One key per reservation, and the body is the same on every retry
	// (the order reference comes from the reservation too): a retry after
	// a timeout or a second click gets Foyer's first answer, replayed.
	redeemed, err := s.foyer.Redeem(r.Context(), res.ID, "redeem-"+res.ID, res.SaleID, token, ref)
	if err != nil {
		// Refused, nothing was sold: no order (unless another click of
		// the customer's, still being answered, made it). Unanswered, it
		// may have been: the order stays pending until a retry or
		// order.paid says.
		var api *APIError
		s.mu.Lock()
		if errors.As(err, &api) && paying && o.Status == statusPending {
			delete(s.orders, res.ID)
		}
		s.mu.Unlock()
		s.refuseFoyer(w, err)
		return
	}
	s.mu.Lock()
	if o.Status == statusPending { // not when an early event found the reservation another customer's
		o.Status = statusPaid
	}
	s.mu.Unlock()
	s.render(w, http.StatusOK, paidTmpl, map[string]any{"Ref": ref, "Redeemed": redeemed})
}

// release gives the unit back: the customer changed their mind.
func (s *Shop) release(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.signedInForm(w, r); !ok {
		return
	}
	token, saleID := r.PostFormValue(tokenParam), r.PostFormValue(saleParam)
	res, err := s.verify(token, saleID)
	if err != nil {
		s.refuseToken(w, err)
		return
	}
	if err := s.foyer.Release(r.Context(), res.ID, res.SaleID, token); err != nil {
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
		msg = "This reservation is not for a sale of this shop."
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
