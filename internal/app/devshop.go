package app

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/foyerhq/foyer/internal/shopkeys"
	"github.com/foyerhq/foyer/internal/webhooks"
	"github.com/foyerhq/foyer/waitingroom"
)

// ShopDemoOpensIn is how long after `foyer dev` starts its shop sale opens:
// the example shop has to be started and a customer signed in first.
const ShopDemoOpensIn = 2 * time.Minute

// ShopEnvFile is the file in the data folder where `foyer dev` writes the
// example shop's environment (`make shop` reads it).
const ShopEnvFile = "shop.env"

// devActor is who the audit log says made what `foyer dev` sets up.
const devActor = "foyer dev"

// devShop is the second demo of `foyer dev`: a sale sold through the
// example shop (examples/shop) at url, with everything the shop needs to
// plug in. dev knows the shop only by its URL and the variables it reads,
// never by its code: the product does not import the examples.
type devShop struct {
	url *url.URL
}

// newDevShop reads FOYER_DEMO_SHOP_URL and makes cfg ready for a shop on
// this machine: an identity secret shared with the shop (made up when
// FOYER_IDENTITY_HS256_SECRET is unset), webhooks to loopback allowed, and
// the shop's origin allowed to open WebSockets. nil, and cfg untouched,
// when there is no demo sale or the shop demo is off.
func newDevShop(cfg *Config) (*devShop, error) {
	if !cfg.DemoSale || cfg.DemoShopURL == "off" {
		return nil, nil
	}
	u, err := url.Parse(strings.TrimRight(cfg.DemoShopURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" || u.Port() == "" ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		return nil, fmt.Errorf(`FOYER_DEMO_SHOP_URL must be the shop's base URL with a port, e.g. http://localhost:8081, or "off"; not %q`, cfg.DemoShopURL)
	}
	u.Path = ""
	if cfg.IdentityHS256Secret == "" {
		cfg.IdentityHS256Secret = rand.Text() + rand.Text() // 52 characters: at least MinIdentitySecretLength
	}
	cfg.WebhookAllowPrivate = true
	cfg.AllowedOrigins = append(cfg.AllowedOrigins, u.Host)
	return &devShop{url: u}, nil
}

// setUp creates the shop's sale, its API key and its webhook endpoint, and
// writes the shop's environment to dir/ShopEnvFile (mode 0600: it holds
// the key and the secrets, which are printed nowhere). It returns the
// sale's id.
func (d *devShop) setUp(ctx context.Context, gw *Gateway, cfg Config, dir string) (string, error) {
	sale, err := gw.Operator.Create(ctx, shopDemoPlan(time.Now(), d.url.String()+"/checkout"), devActor)
	if err != nil {
		return "", fmt.Errorf("create the shop demo sale: %w", err)
	}
	key, err := shopkeys.New(gw.db).Create(ctx, "example shop (foyer dev)",
		[]string{shopkeys.ScopeRedeem, shopkeys.ScopeOrders}, devActor)
	if err != nil {
		return "", fmt.Errorf("shop demo: %w", err)
	}
	hook, err := webhookStore(gw.db, cfg).Create(ctx, webhooks.NewEndpoint{
		URL: d.url.String() + "/webhooks/foyer", Events: webhooks.EventTypes, Description: "example shop (foyer dev)",
	}, devActor)
	if err != nil {
		return "", fmt.Errorf("shop demo: %w", err)
	}
	env := []struct{ name, value string }{
		{"FOYER_URL", gw.URL()},
		{"SHOP_KEY", key.Secret},
		{"SHOP_IDENTITY_SECRET", cfg.IdentityHS256Secret},
		{"SHOP_WEBHOOK_SECRET", hook.Secret},
		{"ADDR", d.listenAddr()},
		{"SHOP_SALE_IDS", sale.ID},
	}
	var b strings.Builder
	b.WriteString("# The example shop's environment, written by `foyer dev` for its shop demo sale.\n")
	b.WriteString("# It holds secrets; it is remade at every start. Use: set -a; . ./" + ShopEnvFile + "\n")
	for _, v := range env {
		fmt.Fprintf(&b, "%s=%s\n", v.name, shellQuote(v.value))
	}
	path := filepath.Join(dir, ShopEnvFile)
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		return "", fmt.Errorf("shop demo: write %s: %w", path, err)
	}
	return sale.ID, nil
}

// listenAddr is where the shop listens: loopback when its URL names this
// machine by name, so the demo shop is not open to the network.
func (d *devShop) listenAddr() string {
	host := d.url.Hostname()
	if strings.EqualFold(host, "localhost") {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, d.url.Port())
}

// printWelcome says how to try the shop demo; never a secret (they are in
// envFile only).
func (d *devShop) printWelcome(out io.Writer, saleID, dataDir, envFile string) {
	start := "make shop"
	if filepath.Clean(dataDir) != ".data" { // the Makefile's default
		start += " FOYER_DATA_DIR=" + shellQuote(dataDir)
	}
	fmt.Fprintf(out, "\nShop demo: a second sale, sold through the example shop (the sale opens in %s)\n", ShopDemoOpensIn)
	fmt.Fprintf(out, "  Shop sale:    %s  (signed-in customers only; they pay at the shop)\n", saleID)
	fmt.Fprintf(out, "  Start it:     %s  (in another terminal; its settings are in %s)\n", start, envFile)
	fmt.Fprintf(out, "  Shop:         %s  (sign in with any customer id, then join the drop: %s/drop?sale=%s)\n", d.url, d.url, saleID)
	fmt.Fprintf(out, "  Shop orders:  %s/orders  (the shop's orders and the webhooks Foyer sent it)\n", d.url)
}

// shopDemoPlan is the shop's sale: only signed-in customers of the shop
// join (identity required), and an admitted one pays at the shop's checkout.
func shopDemoPlan(now time.Time, checkoutURL string) waitingroom.Plan {
	p := demoPlan(now.Add(ShopDemoOpensIn - DemoOpensIn))
	p.SKU, p.Name = "FOYER-RUNNER-02", "Foyer Runner, members' edition (sold by the example shop)"
	p.Identity = waitingroom.IdentityRequired
	p.Checkout, p.CheckoutURL = waitingroom.CheckoutShop, checkoutURL
	return p
}

// shellQuote quotes s for a POSIX shell: the file is sourced, and a secret
// FOYER_IDENTITY_HS256_SECRET may hold any character.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
