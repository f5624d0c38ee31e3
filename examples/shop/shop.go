// Package shop is an example shop in front of which Foyer runs a drop. It
// is what a shop would write, and talks to Foyer over HTTP only: it signs
// its customers in, vouches for them to Foyer with identity tokens, sends
// them to Foyer's queue, and at its checkout verifies the reservation token
// with Foyer's JWKS, redeems it (or releases it) server to server with its
// shop key, and takes Foyer's webhooks, verified and deduplicated.
//
// Everything it keeps (sessions, orders, events) is in memory: it is an
// example, and a real shop has a database for that.
package shop

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/foyerhq/foyer/examples/shop/reservation"
)

// Config is the shop's configuration, read from the environment by
// ConfigFromEnv.
type Config struct {
	// FoyerURL is Foyer's base URL, e.g. https://queue.shop.example (FOYER_URL).
	FoyerURL string
	// ShopKey is the shop's API key of scope redeem, fk_<id>_<secret> (SHOP_KEY).
	ShopKey string
	// IdentitySecret signs the identity tokens (HS256); Foyer has the same
	// as FOYER_IDENTITY_HS256_SECRET (SHOP_IDENTITY_SECRET).
	IdentitySecret string
	// WebhookSecret is the whsec_... secret of the shop's webhook endpoint
	// in Foyer (SHOP_WEBHOOK_SECRET).
	WebhookSecret string
	// SaleIDs are the Foyer sales this shop sells, the only ones whose
	// reservation tokens it takes (SHOP_SALE_IDS, a comma list). Required:
	// checked against the sale in the request, the token's aud would pass
	// with a token of any of Foyer's sales, the customer choosing which.
	SaleIDs []string
	// Addr is where the shop listens (ADDR). Defaults to :8081.
	Addr string

	// Now is the clock; time.Now when nil (tests set it).
	Now func() time.Time
	// HTTPClient calls Foyer; one with a 10 s timeout when nil.
	HTTPClient *http.Client
	// OnEvent, when set, is called with each webhook event the first time
	// it arrives (where a real shop would ship the order); a test awaits
	// deliveries with it.
	OnEvent func(Event)
}

// ConfigFromEnv reads the configuration through getenv (os.Getenv).
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := Config{
		FoyerURL: strings.TrimSuffix(getenv("FOYER_URL"), "/"), ShopKey: getenv("SHOP_KEY"),
		IdentitySecret: getenv("SHOP_IDENTITY_SECRET"), WebhookSecret: getenv("SHOP_WEBHOOK_SECRET"),
		Addr: getenv("ADDR"),
	}
	for id := range strings.SplitSeq(getenv("SHOP_SALE_IDS"), ",") {
		if id = strings.TrimSpace(id); id != "" {
			c.SaleIDs = append(c.SaleIDs, id)
		}
	}
	if c.Addr == "" {
		c.Addr = ":8081"
	}
	var missing []string
	for name, v := range map[string]string{"FOYER_URL": c.FoyerURL, "SHOP_KEY": c.ShopKey,
		"SHOP_IDENTITY_SECRET": c.IdentitySecret, "SHOP_WEBHOOK_SECRET": c.WebhookSecret,
		"SHOP_SALE_IDS": strings.Join(c.SaleIDs, ",")} {
		if v == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing) // the map's order is random; the message is not
		return c, fmt.Errorf("set %s", strings.Join(missing, ", "))
	}
	for _, id := range c.SaleIDs {
		if !printable(id, 128) {
			return c, fmt.Errorf("SHOP_SALE_IDS: %q is not a sale id (1 to 128 printable characters)", id)
		}
	}
	if u, err := url.Parse(c.FoyerURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return c, fmt.Errorf("FOYER_URL %q is not an http(s) URL", c.FoyerURL)
	}
	if len(c.IdentitySecret) < 32 {
		return c, errors.New("SHOP_IDENTITY_SECRET must be at least 32 bytes, as Foyer asks (openssl rand -hex 32)")
	}
	return c, nil
}

// Shop is the example shop: an http.Handler.
type Shop struct {
	cfg      Config
	now      func() time.Time
	verifier *reservation.Verifier
	foyer    *Foyer
	mux      *http.ServeMux

	mu       sync.Mutex
	sessions map[string]customer // by session cookie
	orders   map[string]*Order   // by reservation id
	events   []Event             // webhooks received, first delivery of each only
	seen     map[string]bool     // event ids received
}

// New returns the shop. It fetches Foyer's JWKS now and keeps it fresh
// until ctx ends.
func New(ctx context.Context, cfg Config) (*Shop, error) {
	if len(cfg.SaleIDs) == 0 {
		return nil, errors.New("no sale ids: the shop would take no reservation token (set SaleIDs, SHOP_SALE_IDS)")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	v, err := reservation.NewVerifier(ctx, cfg.FoyerURL+"/.well-known/jwks.json")
	if err != nil {
		return nil, err
	}
	s := &Shop{cfg: cfg, now: cfg.Now, verifier: v,
		foyer:    &Foyer{BaseURL: cfg.FoyerURL, Key: cfg.ShopKey, Client: cfg.HTTPClient},
		sessions: map[string]customer{}, orders: map[string]*Order{}, seen: map[string]bool{}}
	s.routes()
	return s, nil
}

func (s *Shop) routes() {
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("GET /{$}", s.home)
	s.mux.HandleFunc("POST /login", s.login)
	s.mux.HandleFunc("POST /logout", s.logout)
	s.mux.HandleFunc("GET /drop", s.drop)
	s.mux.HandleFunc("GET /identity-token", s.identityTokenJSON)
	s.mux.HandleFunc("GET /checkout", s.checkoutPage)
	s.mux.HandleFunc("POST /checkout/pay", s.pay)
	s.mux.HandleFunc("POST /checkout/release", s.release)
	s.mux.HandleFunc("POST /webhooks/foyer", s.webhook)
	s.mux.HandleFunc("GET /orders", s.ordersPage)
}

// ServeHTTP serves the shop's pages.
func (s *Shop) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }
