// Package server is Foyer's HTTP and WebSocket transport. It decodes requests,
// calls the waiting room and checkout, and encodes answers; it holds no state
// that another node would need, so gateway nodes are interchangeable.
package server

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/time/rate"

	"github.com/foyerhq/foyer/checkout"
	"github.com/foyerhq/foyer/internal/fanout"
	"github.com/foyerhq/foyer/internal/keyring"
	"github.com/foyerhq/foyer/internal/livestats"
	"github.com/foyerhq/foyer/internal/operators"
	"github.com/foyerhq/foyer/internal/orderstream"
	"github.com/foyerhq/foyer/internal/shopkeys"
	"github.com/foyerhq/foyer/internal/wire"
	"github.com/foyerhq/foyer/waitingroom"
)

// SaleOperator creates and lists sales for the admin API.
type SaleOperator interface {
	Create(ctx context.Context, p waitingroom.Plan, actor string) (*waitingroom.Plan, error)
	Control(ctx context.Context, saleID string, c waitingroom.Control) (waitingroom.State, error)
	Audit(ctx context.Context, limit int) ([]waitingroom.AuditEntry, error)
	Record(ctx context.Context, action, actor string, detail any, apply func(context.Context) error) error
	SetFlaggedPolicy(ctx context.Context, saleID string, policy waitingroom.FlagPolicy, actor string) (waitingroom.PolicyApplied, error)
	Get(ctx context.Context, id string) (*waitingroom.Plan, error)
	List(ctx context.Context) ([]waitingroom.Plan, error)
	Edit(ctx context.Context, saleID string, change waitingroom.PlanChange, actor string) (*waitingroom.Plan, error)
	Delete(ctx context.Context, saleID, actor string) error
	ScheduleMessage(ctx context.Context, saleID, text string, at time.Time, actor string) (waitingroom.ScheduledMessage, error)
	ScheduledMessages(ctx context.Context, saleID string) ([]waitingroom.ScheduledMessage, error)
	CancelMessage(ctx context.Context, saleID, id, actor string) error
	// Listable reads the plans the public listing of sales may show (listing.go).
	Listable(ctx context.Context, now time.Time, b waitingroom.ListingBounds) ([]waitingroom.Plan, error)
}

// Checkouter confirms a reservation token the gateway verified.
type Checkouter interface {
	CheckoutVerified(ctx context.Context, v checkout.Verified, product string, quantity int) (checkout.Receipt, error)
}

// Redeemer is the shop's own checkout (redeem.go): it sells a reservation's
// held unit the shop took the money for, or gives it back.
// Both take a token the gateway verified and found to be the reservation's.
type Redeemer interface {
	RedeemVerified(ctx context.Context, v checkout.Verified, orderRef, product string) (checkout.Redemption, error)
	ReleaseVerified(ctx context.Context, v checkout.Verified) error
}

// Presence records where shoppers' connections are, so that one who leaves
// keeps its place for the grace period and no longer.
type Presence interface {
	Arrive(ctx context.Context, saleID, shopperID string) error
	// ArriveAndJoinWith reads the sale's status, then arrives and, with join,
	// joins, in one round trip with the scripts of also; pass is what the
	// shopper shows to join an invited sale.
	ArriveAndJoinWith(ctx context.Context, saleID, shopperID, txn string, join bool, pass waitingroom.Pass, also ...waitingroom.Piped) (waitingroom.Arrival, error)
	Depart(ctx context.Context, saleID, shopperID string) error
}

// IdempotentAnswers keeps the answers to a shopper's requests by their
// Idempotency-Key.
type IdempotentAnswers interface {
	Begin(ctx context.Context, saleID, shopper, key, fingerprint string) (*checkout.Answer, error)
	Finish(ctx context.Context, saleID, shopper, key string, ans checkout.Answer) error
	Abandon(ctx context.Context, saleID, shopper, key string) error
}

// PaymentReports hands a verified payment webhook to the order workers: a
// result alone, or a webhook's batch of them as one message.
type PaymentReports interface {
	Report(ctx context.Context, r orderstream.PaymentResult) error
	ReportBatch(ctx context.Context, results []orderstream.PaymentResult) error
}

// PipelineWatcher tells operators how the streams to the workers are doing.
type PipelineWatcher interface {
	Pipeline(ctx context.Context) (livestats.PipelineStatus, error)
}

// Readiness reports whether the node's dependencies answer and whether it
// can take checkouts.
type Readiness func(ctx context.Context) ReadyReport

// ReadyReport is what /readyz tells. The probe may be reachable by anyone:
// it names the dependencies that failed and says why in words an operator
// can act on, never an address or a raw error (the node logs those).
type ReadyReport struct {
	// Failed are the dependencies that keep the node from serving, such as
	// "redis", "postgres", "redis_persistence". Empty: ready.
	Failed []string `json:"failed,omitempty"`
	// Reason says what is wrong when a failure needs more than its name.
	Reason string `json:"reason,omitempty"`
	// Warnings are what an operator should know that does not stop the
	// node, such as a Redis whose persistence cannot be checked.
	Warnings []string `json:"warnings,omitempty"`
	// Refusing are the requests the node turns away while it serves the
	// rest, such as "checkout" on a Redis that could lose a confirmed one.
	// The node stays ready: every gateway shares that Redis, so a load
	// balancer that took them out for it would end every queue as well.
	Refusing []string `json:"refusing,omitempty"`
}

// Deps are what the server calls; the composition root (internal/app) wires
// them.
type Deps struct {
	Operator SaleOperator
	Rooms    *waitingroom.Rooms
	Presence Presence
	Checkout Checkouter
	// Redeems is the shop's redeem and release; nil refuses them (404).
	Redeems  Redeemer
	Answers  IdempotentAnswers
	Payments PaymentReports
	// Stripe verifies Stripe's webhooks (stripewebhook.go); nil leaves their
	// route out (the payment provider is not Stripe).
	Stripe StripeWebhooks
	// StripeEvents remembers the Stripe events handed on, so a retried one
	// is not handed on again (stripewebhook.go); nil hands each on.
	StripeEvents StripeEventLog
	Pipeline     PipelineWatcher
	Live         LiveStats
	Orders       OrderReader // the Orders API (orders.go)
	// ReservationOrders tells a reconnecting shopper who checked out how
	// its order stands (ordernow.go); nil tells it "confirmed" only.
	ReservationOrders ReservationOrders
	// PaymentSecrets gives such a tab, with Stripe and a pending order, the
	// payment's secret again (ordernow.go); nil gives none.
	PaymentSecrets PaymentSecrets
	// PaymentSummaries sums a sale's payments for the dashboard
	// (paymentsummary.go); nil leaves its route out.
	PaymentSummaries PaymentSummaries
	// ShopKeys are the shop's API keys (shopkeys.go); nil refuses every
	// shop request.
	ShopKeys ShopKeys
	// Webhooks are the shop's webhook endpoints (webhooks.go); nil serves
	// no webhook routes.
	Webhooks Webhooks
	Tokens   *checkout.Tokens
	Ring     *keyring.Ring
	Pow      JoinGuard // proof of work on join, for sales that ask for it; nil asks none
	// Identity verifies shops' identity tokens; nil refuses them all
	// (identity off).
	Identity IdentityVerifier
	Ready    Readiness
	Web      fs.FS // the static pages
	// Limiter, Conns and Blocklist are the defences (limits.go,
	// blocklist.go); a nil one is off.
	Limiter   RateLimiter
	Conns     ConnCounter
	Blocklist Blocklist
	// Sessions counts new sessions per address, for the signal
	// many_identities (signals.go); nil counts none.
	Sessions SessionTally
	Log      *slog.Logger

	// Invitations are invited sales' lists and codes (eligibility.go); nil
	// leaves their routes out.
	Invitations Invitations
	// Accounts are the operators' accounts and sessions (accounts.go); nil
	// leaves sign-in out: the admin token alone opens the admin API.
	Accounts Accounts
	// History is the sales' series and reports (series.go, report.go); nil
	// leaves their routes out.
	History SaleHistory
	// Brandings are sales' brandings (branding.go); nil leaves their routes
	// out: every page has Foyer's own look.
	Brandings Brandings
	// Products are the shop's catalog (catalog.go); nil leaves its routes
	// out, and a sale cannot be made from a product.
	Products Products
}

// Config is the transport's own configuration.
type Config struct {
	// AdminToken is the bearer token of the admin API; it acts as an admin
	// (accounts.go). Empty disables it.
	AdminToken string
	// PublicURL is the base URL shoppers reach this deployment at; the
	// checkout URL in an admitted message is built on it.
	PublicURL string
	// AllowedOrigins are the host patterns browsers may open WebSockets from
	// (coder/websocket OriginPatterns). Empty allows only same-host requests.
	AllowedOrigins []string
	// WebhookSecret signs payment webhooks (HMAC-SHA256). Empty refuses them all.
	WebhookSecret string
	// StripePublishableKey is the Stripe account's publishable key (pk_...)
	// when Stripe takes the money: a pending order's message carries it with
	// the order's client secret, and the shopper page's Content-Security-
	// Policy lets Stripe.js in (headers.go). Empty: the provider is not
	// Stripe, and the page loads nothing but Foyer's own.
	StripePublishableKey string
	// ShopURL is the shop's page, where the shopper page links back to when
	// a sale is over or bought (web.go). Empty: no link back. A sale's
	// branding may name another (branding.go).
	ShopURL string
	// ImageHosts are the hosts, beside Foyer's own, that the shopper page
	// loads images from: a sale's branding may show its logo and product
	// image from them, and no other (headers.go, branding.go). Empty: none.
	ImageHosts []string
	// IdleTimeout is how long a shopper's connection may stay silent before
	// it is taken for dead and closed (4009). Clients ping every 20 s.
	IdleTimeout time.Duration
	// Limits are the rate limits, connection caps and the node's ceilings.
	Limits Limits
	// TrustedProxies are the proxies (IPs or CIDRs) whose X-Forwarded-For
	// names the client. Empty trusts none: the client is the peer address,
	// which a flood cannot forge.
	TrustedProxies []string
	// Signals are the thresholds of the signals of automation recorded per
	// shopper (signals.go).
	Signals Signals
	// BodyTimeout bounds how long a request's body may take to arrive once
	// its headers have (bodylimit.go); a body still coming is cut off with
	// 408 too_slow. Zero: 10 s.
	BodyTimeout time.Duration
}

// Server is one gateway node's HTTP handler and its connected shoppers.
type Server struct {
	cfg     Config
	deps    Deps
	hub     *fanout.Hub
	metrics *metrics
	hooks   hooks         // test seams; all nil in a real node
	joins   *rate.Limiter // the node's ceiling on joins; nil when off
	// limiterWarned and countWarned are when a defence last warned that
	// Redis was out of reach (Unix seconds), to warn once every ten.
	limiterWarned, countWarned atomic.Int64
	engine                     *gin.Engine
	// roles and roleOf are the admin routes' role decisions (roles.go),
	// made as New registers them and only read after.
	roles     []RouteRole
	roleOf    map[string]operators.Role
	streams   sseStreams    // the HTTP fallback's open event streams (sse.go)
	brandings brandingCache // the public brandings this node read lately (branding.go)
}

// hooks let a test of this package see or hold the node at a point of its
// work. Nil hooks cost a comparison.
type hooks struct {
	// handling runs before a client message is handled, on the message's
	// goroutine.
	handling func(m wire.ClientMsg)
}

// New builds the routes.
func New(cfg Config, deps Deps) *Server {
	gin.SetMode(gin.ReleaseMode)
	s := &Server{cfg: cfg, deps: deps, metrics: newMetrics()}
	s.metrics.ceiling.Set(float64(cfg.Limits.MaxConnections))
	s.hub = fanout.New(fanout.Config{Feed: deps.Rooms, Tokens: deps.Tokens,
		CheckoutBase: strings.TrimRight(cfg.PublicURL, "/"), StripePublishableKey: cfg.StripePublishableKey, Log: deps.Log,
		Registerer: s.metrics.registry, EncodeError: s.encodeError})
	s.joins = nodeJoinCeiling(cfg.Limits.MaxJoinsPerSecond)
	e := gin.New()
	if err := e.SetTrustedProxies(cfg.TrustedProxies); err != nil {
		panic(fmt.Sprintf("trusted proxies %v: %v", cfg.TrustedProxies, err)) // checked with the configuration
	}
	// Metrics and profiles are not here but on OpsHandler, which the
	// gateway serves on a listener of its own. Bodies are bounded first: a
	// request refused unread (blocked, rate limited) still has its body
	// drained by net/http, and that must not take for ever either.
	e.Use(gin.Recovery(), secureHeaders, s.limitBodies, s.refuseBlocked, s.limitRequests)
	e.GET("/healthz", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) })
	e.GET("/readyz", s.readyz)
	e.GET("/.well-known/jwks.json", func(c *gin.Context) { c.JSON(http.StatusOK, deps.Ring.JWKS()) })

	v1 := e.Group("/v1")
	v1.POST("/sessions", s.createSession)
	v1.GET("/sales", s.listSalesHandler()) // the public listing, cached per node (listing.go)
	v1.GET("/sales/:sale", s.getSale)
	v1.GET("/sales/:sale/ws", s.shopperSocket)
	v1.GET("/sales/:sale/events", s.shopperStream) // the HTTP fallback: server-sent events (sse.go)
	v1.POST("/sales/:sale/events", s.postToStream) // and the client's messages to them
	v1.GET("/sales/:sale/draw", s.getDraw)
	if deps.History != nil {
		v1.GET("/sales/:sale/fairness", s.fairness)
	}
	if deps.Brandings != nil {
		v1.GET("/sales/:sale/branding", s.publicSaleBranding)
	}
	v1.POST("/sales/:sale/checkout", s.checkout)
	v1.POST("/payments/webhook", s.paymentWebhook)
	if deps.Stripe != nil {
		v1.POST("/payments/stripe/webhook", s.stripeWebhook)
	}

	v1.GET("/admin/live", s.adminLive) // its token comes as a subprotocol: browsers cannot set headers on a WebSocket
	if deps.Accounts != nil {
		v1.POST("/admin/login", s.login)
		v1.POST("/admin/logout", s.logout)
	}
	// Every admin route says the least role that may call it (roles.go,
	// docs/operators.md): a viewer reads, an operator runs sales, an admin
	// also manages accounts, shop keys, webhooks and the blocklist.
	admin := v1.Group("/admin", s.authenticate)
	const viewer, operator, administrator = operators.RoleViewer, operators.RoleOperator, operators.RoleAdmin
	get, post, put, patch, del := http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete
	s.route(admin, get, "/me", viewer, s.me)
	s.route(admin, post, "/sales", operator, s.createSale)
	s.route(admin, get, "/sales", viewer, s.listSales)
	s.route(admin, get, "/sales/:sale", viewer, s.adminGetSale)
	s.route(admin, post, "/sales/:sale/pause", operator, s.control(waitingroom.ActionPause))
	s.route(admin, post, "/sales/:sale/resume", operator, s.control(waitingroom.ActionResume))
	s.route(admin, post, "/sales/:sale/stop", operator, s.control(waitingroom.ActionStop))
	s.route(admin, put, "/sales/:sale/rate", operator, s.control(waitingroom.ActionRate))
	s.route(admin, post, "/sales/:sale/stock", operator, s.control(waitingroom.ActionAddStock))
	s.route(admin, patch, "/sales/:sale", operator, s.editSale)
	s.route(admin, del, "/sales/:sale", operator, s.deleteSale)
	s.route(admin, post, "/sales/:sale/messages", operator, s.postMessage)
	s.route(admin, get, "/sales/:sale/messages", viewer, s.listMessages)
	s.route(admin, del, "/sales/:sale/messages", operator, s.control(waitingroom.ActionMessage)) // no body: clears it
	s.route(admin, del, "/sales/:sale/messages/:message", operator, s.cancelMessage)
	s.route(admin, put, "/sales/:sale/pow", operator, s.control(waitingroom.ActionPow))
	s.route(admin, put, "/sales/:sale/flagged", operator, s.setFlaggedPolicy)
	s.route(admin, get, "/sales/:sale/flags", viewer, s.flags)
	s.route(admin, get, "/sales/:sale/orders", viewer, s.listOrders)
	s.route(admin, get, "/sales/:sale/orders.csv", viewer, s.ordersCSV)
	if s.deps.PaymentSummaries != nil {
		s.route(admin, get, "/sales/:sale/payments", viewer, s.paymentSummary)
	}
	if s.deps.Invitations != nil {
		s.route(admin, put, "/sales/:sale/invitees", operator, s.putInvitees)
		s.route(admin, get, "/sales/:sale/invitees.csv", viewer, s.inviteesCSV)
		s.route(admin, put, "/sales/:sale/groups", operator, s.putGroups)
		s.route(admin, post, "/sales/:sale/invite-codes", operator, s.postInviteCodes)
		s.route(admin, get, "/sales/:sale/invitations", viewer, s.invitations)
	}
	if deps.Products != nil {
		s.route(admin, post, "/products", operator, s.importProducts)
		s.route(admin, get, "/products", viewer, s.listProducts)
		s.route(admin, del, "/products/:sku", operator, s.deleteProduct)
	}
	if s.deps.History != nil {
		s.route(admin, get, "/sales/:sale/series", viewer, s.series)
		s.route(admin, get, "/sales/:sale/report", viewer, s.report)
		s.route(admin, get, "/sales/:sale/report.csv", viewer, s.reportCSV)
		s.route(admin, put, "/sales/:sale/fairness", operator, s.publishFairness)
	}
	if deps.Brandings != nil {
		s.route(admin, put, "/sales/:sale/branding", operator, s.putBranding)
		s.route(admin, get, "/sales/:sale/branding", viewer, s.getBranding)
	}
	s.route(admin, get, "/audit", viewer, s.audit)
	s.route(admin, get, "/pipeline", viewer, s.pipeline)
	if deps.Blocklist != nil {
		s.route(admin, get, "/blocklist", viewer, s.listBlocked)
		s.route(admin, post, "/blocklist", administrator, s.addBlocked)
		s.route(admin, del, "/blocklist", administrator, s.removeBlocked)
	}
	if deps.ShopKeys != nil {
		s.route(admin, post, "/shop-keys", administrator, s.createShopKey)
		s.route(admin, get, "/shop-keys", viewer, s.listShopKeys)
		s.route(admin, del, "/shop-keys/:key", administrator, s.revokeShopKey)
	}
	if deps.Accounts != nil {
		s.route(admin, post, "/operators", administrator, s.createOperator)
		s.route(admin, get, "/operators", administrator, s.listOperators)
		s.route(admin, put, "/operators/:operator/role", administrator, s.setOperatorRole)
		s.route(admin, post, "/operators/:operator/disable", administrator, s.disableOperator)
		s.route(admin, post, "/operators/:operator/enable", administrator, s.enableOperator)
		s.route(admin, put, "/operators/:operator/password", administrator, s.resetOperatorPassword)
	}
	// The shop's backend, with a shop API key instead of the admin token:
	// the same handlers, each route asking for one scope.
	v1.GET("/shop/sales/:sale/orders", s.requireShopKey(shopkeys.ScopeOrders), s.listOrders)
	v1.GET("/shop/sales/:sale/orders.csv", s.requireShopKey(shopkeys.ScopeOrders), s.ordersCSV)
	if deps.Redeems != nil {
		v1.POST("/reservations/:reservation/redeem", s.requireShopKey(shopkeys.ScopeRedeem), s.redeem)
		v1.POST("/reservations/:reservation/release", s.requireShopKey(shopkeys.ScopeRedeem), s.release)
	}
	if deps.Webhooks != nil {
		s.mountWebhooks(admin.Group("/webhooks"), s.route)
		s.mountWebhooks(v1.Group("/shop/webhooks", s.requireShopKey(shopkeys.ScopeWebhooks)), shopRoute)
	}

	if err := s.mountWeb(e); err != nil {
		// The pages are embedded in the binary: unreadable ones are a build mistake.
		panic(err)
	}
	s.engine = e
	return s
}

// Handler is the node's HTTP handler.
func (s *Server) Handler() http.Handler { return s.engine }

// Run serves the node's shoppers until ctx ends, then closes every shopper
// connection with "going away", so the shoppers reconnect to another node.
// (http.Server.Shutdown does not close hijacked connections.)
func (s *Server) Run(ctx context.Context) error { return s.hub.Run(ctx) }

// Shoppers are the shoppers with a connection open on this node, by sale.
// After an outage that made the node look dead, the composition root
// (internal/app) records their presence again with them (the revived
// callback of waitingroom.Presence.Run), so that none loses its place for
// having stayed.
func (s *Server) Shoppers() map[string][]string { return s.hub.Shoppers() }

func (s *Server) readyz(c *gin.Context) {
	type answer struct {
		Status string `json:"status"`
		ReadyReport
	}
	r := s.deps.Ready(c.Request.Context())
	if len(r.Failed) > 0 {
		c.JSON(http.StatusServiceUnavailable, answer{"unavailable", r})
		return
	}
	if len(r.Refusing) > 0 {
		c.JSON(http.StatusOK, answer{"degraded", r})
		return
	}
	c.JSON(http.StatusOK, answer{"ready", r})
}

// fail answers with the error's status and code from the one error table.
func (s *Server) fail(c *gin.Context, err error) {
	err = bodyRefusal(c, err)
	p := s.told(overHTTP, err)
	if p == internalProblem && !errors.Is(err, context.Canceled) {
		s.deps.Log.Error("request failed", "method", c.Request.Method, "path", c.FullPath(), "err", err)
	}
	setRetryAfter(c.Writer, err)
	c.JSON(p.status, errorBody{Error: errorDetail{Code: p.code, Message: describe(p, err)}})
}

// saleParam returns the sale id of the URL, or fails the request: an id that
// could not name a sale never reaches Redis.
func (s *Server) saleParam(c *gin.Context) (string, bool) {
	id := c.Param("sale")
	if !waitingroom.ValidSaleID(id) {
		s.fail(c, waitingroom.ErrSaleNotFound)
		return "", false
	}
	return id, true
}
