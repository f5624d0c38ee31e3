package server

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/foyerhq/foyer/checkout"
	"github.com/foyerhq/foyer/waitingroom"
)

// sessionTTL is how long an anonymous visitor session lasts.
const sessionTTL = 24 * time.Hour

// sessionAudience is the audience of session tokens, so a session token can
// never pass as a reservation token or the other way round.
const sessionAudience = "foyer:session"

type sessionAnswer struct {
	ShopperID string    `json:"shopper_id"`
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
}

// createSession gives an anonymous visitor a shopper id and a signed token
// that proves it on the WebSocket.
func (s *Server) createSession(c *gin.Context) {
	if err := s.admitConnection(); err != nil {
		s.fail(c, err) // a session here would only be refused its WebSocket
		return
	}
	answer, _, err := s.mintSession(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, answer)
}

// mintSession makes a new shopper and its session token, under the
// per-address limit on new sessions: POST /v1/sessions, and a WebSocket
// opened with session=new.
func (s *Server) mintSession(c *gin.Context) (sessionAnswer, sessionClaims, error) {
	if err := s.allow(c.Request.Context(), RuleIPSessions, c.ClientIP()); err != nil {
		return sessionAnswer{}, sessionClaims{}, err
	}
	shopper := "v_" + strings.ToLower(rand.Text())
	claims := sessionClaims{
		RegisteredClaims: s.deps.Ring.NewClaims(shopper, sessionAudience, "", sessionTTL),
		IPSessions:       s.countSession(c.Request.Context(), c.ClientIP()),
	}
	token, err := s.deps.Ring.SignPrivate(claims)
	if err != nil {
		return sessionAnswer{}, sessionClaims{}, err
	}
	return sessionAnswer{ShopperID: shopper, Token: token, ExpiresAt: claims.ExpiresAt.Time}, claims, nil
}

// sessionOf verifies a session token and returns its claims: the subject is
// the shopper.
func (s *Server) sessionOf(token string) (sessionClaims, error) {
	var claims sessionClaims
	if err := s.deps.Ring.VerifyPrivate(token, &claims, sessionAudience); err != nil {
		return sessionClaims{}, fmt.Errorf("%w: %v", errSessionInvalid, err)
	}
	if claims.Subject == "" {
		return sessionClaims{}, fmt.Errorf("%w: no subject", errSessionInvalid)
	}
	return claims, nil
}

// getSale is the public view of a sale, for a page to draw before its
// WebSocket connects.
func (s *Server) getSale(c *gin.Context) {
	id, ok := s.saleParam(c)
	if !ok {
		return
	}
	st, err := s.deps.Rooms.Status(c.Request.Context(), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, viewOf(st))
}

type checkoutRequest struct {
	Token    string `json:"token" binding:"required"`
	Quantity *int   `json:"quantity"` // default 1; at most the sale's per_shopper_limit
}

type checkoutAnswer struct {
	ReservationID string `json:"reservation_id"`
	Status        string `json:"status"`
	Quantity      int    `json:"quantity"`
}

// maxIdempotencyKey bounds the Idempotency-Key header: the key is stored.
const maxIdempotencyKey = 255

// checkout confirms a reservation. With an Idempotency-Key header, a retry
// of the same request gets the first answer again and changes nothing.
func (s *Server) checkout(c *gin.Context) {
	id, ok := s.saleParam(c)
	if !ok {
		return
	}
	var req checkoutRequest
	if err := c.ShouldBindJSON(&req); err != nil {
		s.fail(c, fmt.Errorf("%w: %v", errBadRequest, err))
		return
	}
	quantity := 1
	if req.Quantity != nil {
		quantity = *req.Quantity
	}
	if quantity < 1 {
		s.fail(c, fmt.Errorf("%w: quantity must be at least 1", errBadRequest))
		return
	}
	key := c.GetHeader("Idempotency-Key")
	if len(key) > maxIdempotencyKey {
		s.fail(c, fmt.Errorf("%w: Idempotency-Key is longer than %d", errBadRequest, maxIdempotencyKey))
		return
	}
	ctx := c.Request.Context()
	// Limited per shopper once the token is known to be ours, so a forged
	// token cannot spend another shopper's budget; a token that does not
	// verify is left to the checkout to refuse with its own code.
	if claims, err := s.deps.Tokens.Verify(id, req.Token); err == nil {
		if err := s.allow(ctx, RuleShopperCheckouts, claims.Subject); err != nil {
			s.fail(c, err)
			return
		}
	}
	fingerprint := fingerprintOf(req.Token, quantity)
	if key != "" {
		stored, err := s.deps.Answers.Begin(ctx, id, key, fingerprint)
		if err != nil {
			s.fail(c, err)
			return
		}
		if stored != nil {
			c.Header("Idempotent-Replayed", "true")
			c.Data(stored.Status, "application/json; charset=utf-8", stored.Body)
			return
		}
	}
	status, body := s.checkoutAnswer(c, id, req.Token, quantity)
	if key != "" {
		var err error
		if status >= 500 {
			err = s.deps.Answers.Abandon(ctx, id, key) // our fault: let the retry run afresh
		} else {
			err = s.deps.Answers.Finish(ctx, id, key, checkout.Answer{Status: status, Body: body, Fingerprint: fingerprint})
		}
		if err != nil {
			s.deps.Log.Warn("store idempotent answer", "sale", id, "err", err)
		}
	}
	c.Data(status, "application/json; charset=utf-8", body)
}

// checkoutAnswer runs a checkout and returns its HTTP answer.
func (s *Server) checkoutAnswer(c *gin.Context, saleID, token string, quantity int) (int, []byte) {
	receipt, err := s.deps.Checkout.Checkout(c.Request.Context(), saleID, token, quantity)
	if err != nil {
		p := problemFor(err)
		if p == internalProblem {
			s.deps.Log.Error("checkout failed", "sale", saleID, "err", err)
		}
		setRetryAfter(c.Writer, err) // unavailable: when to try again
		return p.status, encode(errorBody{Error: errorDetail{Code: p.code, Message: describe(p, err)}})
	}
	s.flagCheckout(c.Request.Context(), saleID, receipt, c.ClientIP())
	return http.StatusOK, encode(checkoutAnswer{ReservationID: receipt.ReservationID, Status: receipt.Status,
		Quantity: receipt.Quantity})
}

// fingerprintOf names a checkout request, so a key sent again with another
// request is noticed.
func fingerprintOf(token string, quantity int) string {
	sum := sha256.Sum256([]byte(token + "|" + strconv.Itoa(quantity)))
	return hex.EncodeToString(sum[:])
}

// saleRequest is the admin's plan of a sale; omitted fields take defaults.
type saleRequest struct {
	SKU                   string     `json:"sku"`
	Name                  string     `json:"name"`
	PriceCents            int64      `json:"price_cents"`
	Currency              string     `json:"currency"`
	Stock                 int        `json:"stock"`
	StartsAt              *time.Time `json:"starts_at"`
	EndsAt                *time.Time `json:"ends_at"`
	OutflowPerSecond      float64    `json:"outflow_per_second"`
	ReservationTTLSeconds int        `json:"reservation_ttl_seconds"`
	PrequeueSeconds       *int       `json:"prequeue_seconds"`
	PerShopperLimit       int        `json:"per_shopper_limit"`
	PowDifficulty         int        `json:"pow_difficulty"` // 0, the default, is off
}

// Defaults of a sale plan, for the fields an admin leaves out.
const (
	defaultCurrency       = "EUR"
	defaultOutflow        = 10
	defaultReservationTTL = 300
	defaultSaleLength     = time.Hour
	defaultPrequeue       = 900 // seconds: the prequeue opens 15 minutes before the start
)

func (r saleRequest) plan(now time.Time) waitingroom.Plan {
	p := waitingroom.Plan{
		SKU: r.SKU, Name: r.Name, PriceCents: r.PriceCents, Currency: r.Currency, Stock: r.Stock,
		OutflowPerSecond: r.OutflowPerSecond, ReservationTTLSeconds: r.ReservationTTLSeconds,
		StartsAt: now,
	}
	if r.StartsAt != nil {
		p.StartsAt = *r.StartsAt
	}
	p.EndsAt = p.StartsAt.Add(defaultSaleLength)
	if r.EndsAt != nil {
		p.EndsAt = *r.EndsAt
	}
	if p.Currency == "" {
		p.Currency = defaultCurrency
	}
	if p.OutflowPerSecond == 0 {
		p.OutflowPerSecond = defaultOutflow
	}
	if p.ReservationTTLSeconds == 0 {
		p.ReservationTTLSeconds = defaultReservationTTL
	}
	p.PerShopperLimit = max(r.PerShopperLimit, 1)
	p.PowDifficulty = r.PowDifficulty
	p.PrequeueSeconds = defaultPrequeue
	if r.PrequeueSeconds != nil {
		p.PrequeueSeconds = *r.PrequeueSeconds
	}
	return p
}

func (s *Server) createSale(c *gin.Context) {
	var req saleRequest
	if err := c.ShouldBindJSON(&req); err != nil {
		s.fail(c, fmt.Errorf("%w: %v", errBadRequest, err))
		return
	}
	p, err := s.deps.Operator.Create(c.Request.Context(), req.plan(time.Now()), adminActor)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, p)
}

func (s *Server) listSales(c *gin.Context) {
	plans, err := s.deps.Operator.List(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"sales": plans})
}

// adminSale is a sale's plan with its live state.
type adminSale struct {
	Plan *waitingroom.Plan `json:"plan"`
	Live saleView          `json:"live"`
}

func (s *Server) adminGetSale(c *gin.Context) {
	id, ok := s.saleParam(c)
	if !ok {
		return
	}
	p, err := s.deps.Operator.Get(c.Request.Context(), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	st, err := s.deps.Rooms.Status(c.Request.Context(), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, adminSale{Plan: p, Live: viewOf(st)})
}

func viewOf(st waitingroom.Status) saleView {
	return saleView{
		ID: st.SaleID, Name: st.Name, PriceCents: st.PriceCents, Currency: st.Currency, State: st.State,
		StartsAt: st.StartsAt.UTC(), EndsAt: st.EndsAt.UTC(), Waiting: st.Waiting, Message: st.Message,
		PrequeueAt: st.PrequeueAt.UTC(), SeedHash: st.SeedHash, Seed: st.Seed,
		Stock: stockView{Total: st.Stock, Left: st.Available, Held: st.Held, Sold: st.Sold},
	}
}

// adminActor names who did an admin action in the audit log. The admin API
// has one shared token, so there is one actor.
const adminActor = "admin"

// controlRequest carries the argument of an admin action, when it has one.
type controlRequest struct {
	OutflowPerSecond float64 `json:"outflow_per_second"`
	Add              int64   `json:"add"`
	Text             string  `json:"text"`
	// Difficulty is the proof of work asked of joiners (PUT .../pow); a
	// number, so that 7.5 is refused like 99, as an invalid_sale.
	Difficulty *float64 `json:"difficulty"`
}

// control answers an admin action on a sale with the sale's new state.
func (s *Server) control(action waitingroom.Action) gin.HandlerFunc {
	return func(c *gin.Context) {
		id, ok := s.saleParam(c)
		if !ok {
			return
		}
		var req controlRequest
		if c.Request.ContentLength != 0 {
			if err := c.ShouldBindJSON(&req); err != nil {
				s.fail(c, fmt.Errorf("%w: %v", errBadRequest, err))
				return
			}
		}
		ctl := waitingroom.Control{Action: action, Text: req.Text, Actor: adminActor, Value: req.OutflowPerSecond}
		switch action {
		case waitingroom.ActionAddStock:
			ctl.Value = float64(req.Add)
		case waitingroom.ActionPow:
			ctl.Value = -1 // required: without it, the validation refuses the change
			if req.Difficulty != nil {
				ctl.Value = *req.Difficulty
			}
		}
		state, err := s.deps.Operator.Control(c.Request.Context(), id, ctl)
		if err != nil {
			s.fail(c, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"state": state})
	}
}

func (s *Server) audit(c *gin.Context) {
	entries, err := s.deps.Operator.Audit(c.Request.Context(), 200)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"entries": entries})
}

// getDraw publishes a sale's prequeue draw: the seed's hash from the moment
// the prequeue opens, the seed and the drawn order from the start.
func (s *Server) getDraw(c *gin.Context) {
	id, ok := s.saleParam(c)
	if !ok {
		return
	}
	d, err := s.deps.Rooms.Draw(c.Request.Context(), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, d)
}

// pipeline shows operators the order workers' backlog and poison messages.
func (s *Server) pipeline(c *gin.Context) {
	st, err := s.deps.Pipeline.Pipeline(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, st)
}
