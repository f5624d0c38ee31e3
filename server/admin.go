package server

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/foyerhq/foyer/internal/catalog"
	"github.com/foyerhq/foyer/internal/fanout"
	"github.com/foyerhq/foyer/waitingroom"
)

// The admin API's handlers: sale plans, controls, the audit log and the pipeline.

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
	PowDifficulty         int        `json:"pow_difficulty"`     // 0, the default, is off
	Identity              string     `json:"identity,omitempty"` // off (the default), optional or required
	// Checkout is foyer (the default) or shop, with the shop's CheckoutURL;
	// omitempty keeps the fingerprints of requests made before them.
	Checkout    string `json:"checkout,omitempty"`
	CheckoutURL string `json:"checkout_url,omitempty"`
	// PerCustomerUnits (0, the default: no bound but per_shopper_limit per
	// order) and PerCustomerOrders (default 1) are the per-customer limit;
	// omitempty keeps the fingerprints of requests made before them.
	PerCustomerUnits  int `json:"per_customer_units,omitempty"`
	PerCustomerOrders int `json:"per_customer_orders,omitempty"`
	// Eligibility is everyone (the default) or invited (eligibility.go).
	Eligibility string `json:"eligibility,omitempty"`
	// ProductSKU picks a product of the catalog (catalog.go) instead of
	// sku, name and price_cents: the sale copies its SKU, name, list price
	// and currency, and later imports change nothing of the sale.
	ProductSKU string `json:"product_sku,omitempty"`
	// ListPriceCents and Discount make the price a discount off a list
	// price (waitingroom/discount.go): price_cents is then derived. With a
	// product, its list price is the list price.
	ListPriceCents int64                        `json:"list_price_cents,omitempty"`
	Discount       *waitingroom.DiscountRequest `json:"discount,omitempty"`
	// Products makes the sale an event of several products
	// (saleproducts.go, docs/products.md); omitempty keeps the
	// fingerprints of requests made before them.
	Products []productRequest `json:"products,omitempty"`
}

// Defaults of a sale plan, for the fields an admin leaves out.
const (
	defaultCurrency       = "EUR"
	defaultOutflow        = 10
	defaultReservationTTL = 300
	defaultSaleLength     = time.Hour
	defaultPrequeue       = 900 // seconds: the prequeue opens 15 minutes before the start
)

// fingerprint identifies the request as the admin sent it, before defaults:
// a retry without starts_at is the same request, though "now" has moved.
func (r saleRequest) fingerprint() string {
	b, _ := json.Marshal(r)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// plan is the sale the request asks for, made from product when the request
// names one; a request that names a product and also gives what the
// product gives, or a discount that cannot be read, is ErrInvalidSale.
func (r saleRequest) plan(now time.Time, product *catalog.Product) (waitingroom.Plan, error) {
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
	p.Identity = waitingroom.IdentityMode(r.Identity)
	if p.Identity == "" {
		p.Identity = waitingroom.IdentityOff
	}
	p.Checkout, p.CheckoutURL = waitingroom.CheckoutMode(r.Checkout), r.CheckoutURL
	if p.Checkout == "" {
		p.Checkout = waitingroom.CheckoutFoyer
	}
	p.PerCustomerUnits = r.PerCustomerUnits
	p.PerCustomerOrders = r.PerCustomerOrders
	if p.PerCustomerOrders == 0 {
		p.PerCustomerOrders = 1
	}
	p.Eligibility = waitingroom.Eligibility(r.Eligibility)
	if p.Eligibility == "" {
		p.Eligibility = waitingroom.EligibleEveryone
	}
	p.PrequeueSeconds = defaultPrequeue
	if r.PrequeueSeconds != nil {
		p.PrequeueSeconds = *r.PrequeueSeconds
	}
	return p, r.price(&p, product)
}

// price sets the plan's price: a product's list price, or the request's
// price_cents, less the discount if there is one.
func (r saleRequest) price(p *waitingroom.Plan, product *catalog.Product) error {
	list := r.ListPriceCents
	if product != nil {
		if r.SKU != "" || r.Name != "" || r.PriceCents != 0 || r.ListPriceCents != 0 ||
			(r.Currency != "" && r.Currency != product.Currency) {
			return fmt.Errorf("%w: product_sku gives the sale its sku, name, price and currency: send it or them, not both",
				waitingroom.ErrInvalidSale)
		}
		p.SKU, p.Name, p.PriceCents, p.Currency = product.SKU, product.Name, product.ListPriceCents, product.Currency
		list = product.ListPriceCents
	}
	var d waitingroom.Discount
	if r.Discount != nil {
		var err error
		if d, err = r.Discount.Discount(); err != nil {
			return err
		}
	}
	if d.None() {
		if product == nil {
			p.ListPriceCents = r.ListPriceCents // refused by Validate unless 0: a list price goes with a discount
		}
		return nil
	}
	price := p.PriceCents
	p.SetDiscount(list, d)
	if r.PriceCents != 0 {
		p.PriceCents = price // as sent: Validate refuses it unless it is the derived price
	}
	return nil
}

// createSale creates a sale. With an Idempotency-Key header, a retry of the
// same request (after a lost answer, say) gets the sale the first made, with
// the same 201, and makes no other; the key sent with another request is
// refused with idempotency_key_reused.
func (s *Server) createSale(c *gin.Context) {
	var req saleRequest
	if err := c.ShouldBindJSON(&req); err != nil {
		s.fail(c, fmt.Errorf("%w: %v", errBadRequest, err))
		return
	}
	key := c.GetHeader("Idempotency-Key")
	if len(key) > maxIdempotencyKey {
		s.fail(c, fmt.Errorf("%w: Idempotency-Key is longer than %d", errBadRequest, maxIdempotencyKey))
		return
	}
	var product *catalog.Product
	if req.ProductSKU != "" {
		if s.deps.Products == nil {
			s.fail(c, fmt.Errorf("%w: this server keeps no catalog: send sku, name and price_cents", errBadRequest))
			return
		}
		found, err := s.deps.Products.Get(c.Request.Context(), req.ProductSKU)
		if err != nil {
			s.fail(c, err)
			return
		}
		product = &found
	}
	plan, err := req.plan(time.Now(), product)
	if err == nil && req.Products != nil {
		var products []waitingroom.Product
		if products, err = s.eventProducts(c.Request.Context(), req); err == nil {
			plan.PerShopperLimit = req.PerShopperLimit // 0: the highest of the products'
			plan.SetProducts(products)
		}
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	plan.IdempotencyKey, plan.Fingerprint = key, req.fingerprint()
	p, err := s.deps.Operator.Create(c.Request.Context(), plan, actorOf(c))
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
	st, err := s.deps.Rooms.StatusShown(c.Request.Context(), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	live := viewOf(st)
	for i := range live.Products {
		live.Products[i].Sold = &st.Products[i].Sold
	}
	c.JSON(http.StatusOK, adminSale{Plan: p, Live: live})
}

func viewOf(st waitingroom.Status) saleView {
	return saleView{
		ID: st.SaleID, Name: st.Name, PriceCents: st.PriceCents, ListPriceCents: st.ListPriceCents,
		Currency: st.Currency, State: st.State,
		StartsAt: st.StartsAt.UTC(), EndsAt: st.EndsAt.UTC(), Waiting: st.Waiting, Message: st.Message,
		PrequeueAt: st.PrequeueAt.UTC(), SeedHash: st.SeedHash, Seed: st.Seed,
		Stock:    fanout.StockMsg{Total: st.Stock, Left: st.Available, Held: st.Held, Sold: st.Sold},
		Products: productViews(st.Products),
	}
}

// productViews are an event's products as a page shows them; nil for a
// single-product sale.
func productViews(products []waitingroom.ProductStatus) []productView {
	if products == nil {
		return nil
	}
	out := make([]productView, len(products))
	for i, p := range products {
		out[i] = productView{SKU: p.SKU, Name: p.Name, PriceCents: p.PriceCents, ListPriceCents: p.ListPriceCents,
			Stock: p.Stock, Left: p.Left, PerShopperLimit: p.PerShopperLimit, ImageURL: p.ImageURL, Description: p.Description}
	}
	return out
}

// controlRequest carries the argument of an admin action, when it has one.
type controlRequest struct {
	OutflowPerSecond float64 `json:"outflow_per_second"`
	Add              int64   `json:"add"`
	Text             string  `json:"text"`
	// Difficulty is the proof of work asked of joiners (PUT .../pow); a
	// number, so that 7.5 is refused like 99, as an invalid_sale.
	Difficulty *float64 `json:"difficulty"`
	// Product, with stock, is the event's product the units are for
	// (docs/products.md).
	Product string `json:"product"`
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
		ctl := waitingroom.Control{Action: action, Text: req.Text, Actor: actorOf(c), Value: req.OutflowPerSecond}
		switch action {
		case waitingroom.ActionAddStock:
			ctl.Value, ctl.Product = float64(req.Add), req.Product
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

// pipeline shows operators the order workers' backlog and poison messages.
func (s *Server) pipeline(c *gin.Context) {
	st, err := s.deps.Pipeline.Pipeline(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, st)
}
