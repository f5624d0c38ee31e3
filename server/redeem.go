package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/foyerhq/foyer/checkout"
	"github.com/foyerhq/foyer/waitingroom"
)

// The shop's own checkout, server to server (docs/integration.md, "Redeem"
// and "Release"): the shop's backend, with a shop key of scope redeem,
// sells a reservation's held unit once it has the money, or gives it back.

// maxRedeemText bounds a redeem's Idempotency-Key and order_ref, in
// characters: both are stored, the order reference in the order row.
const maxRedeemText = 128

type redeemRequest struct {
	SaleID   string `json:"sale_id"`
	Token    string `json:"token"`
	OrderRef string `json:"order_ref"`
	// Product is the SKU of the product the shop sold: required in an
	// event (docs/products.md), its own sku or absent in a single-product
	// sale.
	Product string `json:"product,omitempty"`
}

type redeemAnswer struct {
	ReservationID string `json:"reservation_id"`
	SaleID        string `json:"sale_id"`
	ShopperID     string `json:"shopper_id"`
	OrderRef      string `json:"order_ref"`
	Quantity      int    `json:"quantity"`
	Status        string `json:"status"` // "redeemed"
	// Product is the SKU an event's redeem sold; absent in a
	// single-product sale.
	Product  string `json:"product,omitempty"`
	Replayed bool   `json:"replayed"`
}

type releaseRequest struct {
	SaleID string `json:"sale_id"`
	Token  string `json:"token"`
}

type releaseAnswer struct {
	ReservationID string `json:"reservation_id"`
	Released      bool   `json:"released"`
}

// redeem answers POST /v1/reservations/{id}/redeem. The Idempotency-Key is
// required, and is the shop key's own: the same key and body again get the
// first answer, replayed, and change nothing; confirm.lua answers a replay
// too when the stored answer was lost.
func (s *Server) redeem(c *gin.Context) {
	defer s.countCheckout("redeem", c)
	key := c.GetHeader("Idempotency-Key")
	if why := printableASCIIProblem(key); why != "" {
		s.fail(c, fmt.Errorf("%w: Idempotency-Key %s", errBadRequest, why))
		return
	}
	var req redeemRequest
	if err := c.ShouldBindJSON(&req); err != nil {
		s.fail(c, fmt.Errorf("%w: %v", errBadRequest, err))
		return
	}
	if why := orderRefProblem(req.OrderRef); why != "" {
		s.fail(c, fmt.Errorf("%w: order_ref %s", errBadRequest, why))
		return
	}
	if req.Product != "" && !waitingroom.ValidProductSKU(req.Product) {
		s.fail(c, fmt.Errorf("%w: product must be a sku of 1 to 64 characters without control characters", errBadRequest))
		return
	}
	ctx := c.Request.Context()
	reservationID := c.Param("reservation")
	// Nothing is stored before the token verifies and names this
	// reservation: a shop's junk claims no key kept for a day.
	verified, err := s.verifyReservation(ctx, req.SaleID, reservationID, req.Token)
	if err != nil {
		s.fail(c, err)
		return
	}
	scope := "k_" + c.GetString(shopKeyIDContext) // never a shopper id (v_ or c_)
	fingerprint := redeemFingerprint(reservationID, req)
	// As a checkout: once begun, run to the end though the shop hangs up.
	work, cancel := context.WithTimeout(context.WithoutCancel(ctx), claimedFor)
	defer cancel()
	stored, err := s.deps.Answers.Begin(work, req.SaleID, scope, key, fingerprint)
	if err != nil {
		s.fail(c, err)
		return
	}
	if stored != nil {
		c.Header("Idempotent-Replayed", "true")
		c.Data(stored.Status, "application/json; charset=utf-8", replayedBody(stored))
		return
	}
	defer func() {
		if v := recover(); v != nil {
			s.abandon(work, req.SaleID, scope, key)
			panic(v)
		}
	}()
	status, body := s.redeemAnswer(checkout.WithIdempotencyKey(work, key), c, verified, req)
	if status >= 500 {
		s.abandon(work, req.SaleID, scope, key) // our fault: let the retry run afresh
	} else if err := s.deps.Answers.Finish(work, req.SaleID, scope, key,
		checkout.Answer{Status: status, Body: body, Fingerprint: fingerprint}); err != nil {
		s.deps.Log.Warn("store idempotent answer", "sale", req.SaleID, "err", err)
	}
	c.Data(status, "application/json; charset=utf-8", body)
}

// redeemAnswer runs the redeem of a verified token and returns its HTTP
// answer.
func (s *Server) redeemAnswer(ctx context.Context, c *gin.Context, v checkout.Verified, req redeemRequest) (int, []byte) {
	reservationID := v.Claims().ID
	r, err := s.deps.Redeems.RedeemVerified(ctx, v, req.OrderRef, req.Product)
	if err != nil {
		p := s.told(overHTTP, err)
		if p == internalProblem {
			s.deps.Log.Error("redeem failed", "sale", req.SaleID, "reservation", reservationID, "err", err)
		}
		setRetryAfter(c.Writer, err)
		return p.status, encode(errorBody{Error: errorDetail{Code: p.code, Message: describe(p, err)}})
	}
	return http.StatusOK, encode(redeemAnswer{ReservationID: r.ReservationID, SaleID: r.SaleID,
		ShopperID: r.ShopperID, OrderRef: r.OrderRef, Quantity: r.Quantity, Status: "redeemed", Replayed: r.Replayed,
		Product: r.Product})
}

// replayedBody is a stored answer as its replay tells it: a redemption
// says replayed; a refusal is told as it was.
func replayedBody(a *checkout.Answer) []byte {
	if a.Status != http.StatusOK {
		return a.Body
	}
	var r redeemAnswer
	if err := json.Unmarshal(a.Body, &r); err != nil {
		return a.Body
	}
	r.Replayed = true
	return encode(r)
}

// release answers POST /v1/reservations/{id}/release: the held unit goes
// back to the sale at once. Releasing again answers the same.
func (s *Server) release(c *gin.Context) {
	var req releaseRequest
	if err := c.ShouldBindJSON(&req); err != nil {
		s.fail(c, fmt.Errorf("%w: %v", errBadRequest, err))
		return
	}
	ctx := c.Request.Context()
	reservationID := c.Param("reservation")
	verified, err := s.verifyReservation(ctx, req.SaleID, reservationID, req.Token)
	if err != nil {
		s.fail(c, err)
		return
	}
	if err := s.deps.Redeems.ReleaseVerified(ctx, verified); err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, releaseAnswer{ReservationID: reservationID, Released: true})
}

// verifyReservation checks, before anything is stored or changed, that the
// request names a sale, and carries a token good for it and for the
// reservation of the path: junk claims no idempotency key. The redeem or
// release then acts on the token verified here, once.
func (s *Server) verifyReservation(ctx context.Context, saleID, reservationID, token string) (checkout.Verified, error) {
	if !waitingroom.ValidSaleID(saleID) {
		return checkout.Verified{}, fmt.Errorf("%w: sale_id %q", waitingroom.ErrSaleNotFound, saleID)
	}
	if token == "" {
		return checkout.Verified{}, fmt.Errorf("%w: token is required", errBadRequest)
	}
	v, err := s.deps.Tokens.VerifyFor(saleID, token)
	if err != nil {
		return checkout.Verified{}, s.unlessNoSale(ctx, saleID, err)
	}
	if v.Claims().ID != reservationID {
		return checkout.Verified{}, fmt.Errorf("%w: the path names %q", checkout.ErrReservationMismatch, reservationID)
	}
	return v, nil
}

// printableASCIIProblem says what is wrong with an Idempotency-Key of a
// redeem, or "" when nothing is: 1 to maxRedeemText printable ASCII
// characters.
func printableASCIIProblem(s string) string {
	if s == "" {
		return "is required"
	}
	if len(s) > maxRedeemText {
		return fmt.Sprintf("must have at most %d characters", maxRedeemText)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return "must be printable ASCII"
		}
	}
	return ""
}

// orderRefProblem says what is wrong with a shop's order reference, or ""
// when nothing is: 1 to maxRedeemText characters of valid UTF-8, not blank,
// no control character (it lands in the order row, the CSV and webhooks).
func orderRefProblem(s string) string {
	switch {
	case strings.TrimSpace(s) == "":
		return "is required"
	case !utf8.ValidString(s):
		return "must be valid UTF-8"
	case utf8.RuneCountInString(s) > maxRedeemText:
		return fmt.Sprintf("must have at most %d characters", maxRedeemText)
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		return "must not contain control characters"
	}
	return ""
}

// redeemFingerprint names a redeem request, so an Idempotency-Key sent
// again with another request is noticed.
func redeemFingerprint(reservationID string, req redeemRequest) string {
	text := "redeem|" + reservationID + "|" + req.Token + "|" + req.OrderRef
	if req.Product != "" {
		// Only then: a request without one keeps the fingerprint stored
		// before redeems named products.
		text += "|" + req.Product
	}
	sum := sha256.Sum256([]byte(text))
	return hex.EncodeToString(sum[:])
}
