package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/foyerhq/foyer/checkout"
	"github.com/foyerhq/foyer/waitingroom"
)

type checkoutRequest struct {
	Token    string `json:"token" binding:"required"`
	Quantity *int   `json:"quantity"` // default 1; at most the sale's per_shopper_limit
	// Product is the SKU of the product the shopper chose: required in an
	// event (a sale of several products, docs/products.md); a
	// single-product sale takes its own SKU or none.
	Product string `json:"product,omitempty"`
}

type checkoutAnswer struct {
	ReservationID string `json:"reservation_id"`
	Status        string `json:"status"`
	Quantity      int    `json:"quantity"`
	// Product is the SKU an event's checkout bought; absent in a
	// single-product sale, whose answer is as it was.
	Product string `json:"product,omitempty"`
}

// maxIdempotencyKey bounds the Idempotency-Key header: the key is stored.
const maxIdempotencyKey = 255

// checkout confirms a reservation. With an Idempotency-Key header, a retry
// of the same request gets the first answer again and changes nothing.
func (s *Server) checkout(c *gin.Context) {
	defer s.countCheckout("checkout", c)
	id, ok := s.saleParam(c)
	if !ok {
		return
	}
	var req checkoutRequest
	if err := c.ShouldBindJSON(&req); err != nil {
		s.fail(c, fmt.Errorf("%w: %v", errBadRequest, err))
		return
	}
	choice, err := choiceOf(req.Quantity, req.Product, errBadRequest)
	if err != nil {
		s.fail(c, err)
		return
	}
	key := c.GetHeader("Idempotency-Key")
	if len(key) > maxIdempotencyKey {
		s.fail(c, fmt.Errorf("%w: Idempotency-Key is longer than %d", errBadRequest, maxIdempotencyKey))
		return
	}
	ctx := c.Request.Context()
	// Nothing is stored before the token verifies: a request that is not a
	// shopper's (junk, forged, another sale's) is refused as it comes, and
	// claims no key, so it cannot fill Redis with answers kept for a day.
	verified, err := s.deps.Tokens.VerifyFor(id, req.Token)
	if err != nil {
		s.fail(c, s.unlessNoSale(ctx, id, err))
		return
	}
	if err := s.chargeCheckout(ctx, verified); err != nil {
		s.fail(c, err)
		return
	}
	shopper := verified.Claims().Subject
	// From here on the checkout runs to its end even if the client goes
	// away: confirm.lua may already have run when its connection drops, and
	// an answer not stored (or a key not freed) on the request's cancelled
	// context left the key claimed, then the retry a 409 for a confirmed
	// checkout. claimedFor still bounds it.
	work, cancel := context.WithTimeout(context.WithoutCancel(ctx), claimedFor)
	defer cancel()
	if key == "" {
		status, body := s.checkoutAnswer(work, c, verified, choice)
		c.Data(status, "application/json; charset=utf-8", body)
		return
	}
	fingerprint := fingerprintOf(req.Token, choice) // only a key's request is remembered
	stored, err := s.deps.Answers.Begin(work, id, shopper, key, fingerprint)
	if err != nil {
		s.fail(c, err)
		return
	}
	if stored != nil {
		c.Header("Idempotent-Replayed", "true")
		c.Data(stored.Status, "application/json; charset=utf-8", stored.Body)
		return
	}
	// A panic in between would leave the key claimed until inFlightTTL: free
	// it, then let gin's recovery answer 500.
	defer func() {
		if v := recover(); v != nil {
			s.abandon(work, id, shopper, key)
			panic(v)
		}
	}()
	status, body := s.checkoutAnswer(checkout.WithIdempotencyKey(work, key), c, verified, choice)
	if status >= 500 {
		s.abandon(work, id, shopper, key) // our fault: let the retry run afresh
	} else if err := s.deps.Answers.Finish(work, id, shopper, key, checkout.Answer{Status: status, Body: body, Fingerprint: fingerprint}); err != nil {
		s.deps.Log.Warn("store idempotent answer", "sale", id, "err", err)
	}
	c.Data(status, "application/json; charset=utf-8", body)
}

// claimedFor bounds a checkout once begun, storing or freeing its answer
// included, now that the client's going away no longer ends it: well within
// the 30s a claimed key is held for a node that died.
const claimedFor = 10 * time.Second

// abandon frees an idempotency key whose request failed on our side.
func (s *Server) abandon(ctx context.Context, saleID, shopper, key string) {
	if err := s.deps.Answers.Abandon(ctx, saleID, shopper, key); err != nil {
		s.deps.Log.Warn("free idempotency key", "sale", saleID, "err", err)
	}
}

// unlessNoSale is the error to tell about a checkout whose token did not
// verify: sale_not_found when there is no such sale (no token can be good
// for it, and the client had better hear why), the token's own otherwise.
// Only a refused checkout pays for the look-up.
func (s *Server) unlessNoSale(ctx context.Context, saleID string, tokenErr error) error {
	if _, err := s.deps.Rooms.Status(ctx, saleID); errors.Is(err, waitingroom.ErrSaleNotFound) {
		return err
	}
	return tokenErr
}

// choice is what a checkout buys: how many of which product.
type choice struct {
	product  string // "" in a single-product sale
	quantity int
}

// choiceOf reads what a checkout asks to buy (quantity 1 when absent),
// refusing with bad (errBadRequest over HTTP, errBadMessage over a socket)
// fewer than one unit or a product that cannot be a SKU.
func choiceOf(quantity *int, product string, bad error) (choice, error) {
	ch := choice{product: product, quantity: 1}
	if quantity != nil {
		ch.quantity = *quantity
	}
	if ch.quantity < 1 {
		return choice{}, fmt.Errorf("%w: quantity must be at least 1", bad)
	}
	if ch.product != "" && !waitingroom.ValidProductSKU(ch.product) {
		return choice{}, fmt.Errorf("%w: product must be a sku of 1 to 64 characters without control characters", bad)
	}
	return ch, nil
}

// chargeCheckout limits checkouts per shopper once the token is known to
// be ours, so a forged token cannot spend another shopper's budget. A token
// this node signed, presented here for the first time, is the one checkout
// its reservation makes on a shopper's honest path and is not charged: that
// spares the limiter's Redis round trip on most checkouts, and a shopper
// gets no more than one uncharged try a reservation, each admitted at the
// sale's rate. Its retries, and any token signed elsewhere, are charged.
func (s *Server) chargeCheckout(ctx context.Context, v checkout.Verified) error {
	if v.FirstHere() {
		return nil
	}
	return s.allow(ctx, RuleShopperCheckouts, v.Claims().Subject)
}

// checkoutAnswer runs the checkout of a verified token and returns its HTTP
// answer.
func (s *Server) checkoutAnswer(ctx context.Context, c *gin.Context, v checkout.Verified, ch choice) (int, []byte) {
	saleID := v.SaleID()
	receipt, err := s.deps.Checkout.CheckoutVerified(ctx, v, ch.product, ch.quantity)
	if err != nil {
		p := s.told(overHTTP, err)
		if p == internalProblem {
			s.deps.Log.Error("checkout failed", "sale", saleID, "err", err)
		}
		setRetryAfter(c.Writer, err) // unavailable: when to try again
		return p.status, encode(errorBody{Error: errorDetail{Code: p.code, Message: describe(p, err)}})
	}
	if !receipt.Replayed { // flagged when it was confirmed
		s.flagCheckout(ctx, saleID, receipt, c.ClientIP())
	}
	return http.StatusOK, encode(checkoutAnswer{ReservationID: receipt.ReservationID, Status: receipt.Status,
		Quantity: receipt.Quantity, Product: receipt.SKU})
}

// fingerprintOf names a checkout request, so a key sent again with another
// request is noticed. Without a product it is what it was before products,
// so answers stored across an upgrade still match.
func fingerprintOf(token string, ch choice) string {
	named := token + "|" + strconv.Itoa(ch.quantity)
	if ch.product != "" {
		named += "|" + ch.product
	}
	sum := sha256.Sum256([]byte(named))
	return hex.EncodeToString(sum[:])
}
