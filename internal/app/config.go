// Package app wires Foyer's parts into the programs `foyer` runs: the
// gateway, the order worker, and both together for development. It is the
// only place that knows every part; tests start the very same programs.
package app

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"time"

	"github.com/foyerhq/foyer/server"

	"github.com/caarlos0/env/v11"

	"github.com/foyerhq/foyer/checkout"
	"github.com/foyerhq/foyer/internal/identity"
	"github.com/foyerhq/foyer/internal/keyring"
	"github.com/foyerhq/foyer/internal/orderstream"
	"github.com/foyerhq/foyer/internal/webhooks"
)

// Config is every setting, read from environment variables. README.md lists
// them with their defaults; keep the two in step.
type Config struct {
	// HTTPAddr is where the gateway listens. ":0" picks a free port.
	HTTPAddr string `env:"FOYER_HTTP_ADDR" envDefault:":8080"`
	// MetricsAddr is where the gateway serves its metrics (/metrics) and
	// Go profiles (/debug/pprof/), which check no token: loopback unless
	// only operators can reach the address. "off" serves them nowhere (an
	// empty value takes the default, as for every setting).
	MetricsAddr string `env:"FOYER_METRICS_ADDR" envDefault:"127.0.0.1:9090"`
	// WorkerMetricsAddr is the order worker's ops port, as MetricsAddr is
	// the gateway's: another default, so that both run on one machine.
	WorkerMetricsAddr string `env:"FOYER_WORKER_METRICS_ADDR" envDefault:"127.0.0.1:9091"`
	// PublicURL is the base URL shoppers reach Foyer at; checkout URLs and the
	// printed links are built on it. Empty: http://localhost and the port.
	PublicURL string `env:"FOYER_PUBLIC_URL"`
	// ShopURL is the shop's own page (an absolute http or https URL): the
	// shopper page links back to it once a sale is sold out, ended or
	// bought. Empty: the page offers no link back.
	ShopURL string `env:"FOYER_SHOP_URL"`
	// RedisURL is the Redis that holds all hot state, shared by every node.
	RedisURL string `env:"FOYER_REDIS_URL" envDefault:"redis://127.0.0.1:6379/0"`
	// AllowVolatileRedis lets the gateway take checkouts from a Redis that
	// could lose them in a crash (AOF off, or appendfsync other than
	// always), for throwaway runs and tests; it is logged loudly at start.
	// Unset, such a gateway refuses checkouts with 503 not_durable.
	AllowVolatileRedis bool `env:"FOYER_ALLOW_VOLATILE_REDIS" envDefault:"false"`
	// RedisWaitReplicas is how many replicas of a sale's primary must have a
	// confirmed checkout before the shopper is told so (WAIT on the
	// connection that wrote it): Redis replicates asynchronously, and a
	// failover promotes a replica with only what reached it. 0, the
	// default, answers once the primary has it; set 1 where primaries have
	// replicas (docs/scaling.md, "Redis Cluster").
	RedisWaitReplicas int `env:"FOYER_REDIS_WAIT_REPLICAS" envDefault:"0"`
	// RedisWaitTimeout bounds that wait; past it the checkout fails (503
	// not_durable) and the same request sent again is answered once the
	// replicas have it.
	RedisWaitTimeout time.Duration `env:"FOYER_REDIS_WAIT_TIMEOUT" envDefault:"1s"`
	// DatabaseURL is the Postgres that holds sale plans and orders.
	DatabaseURL string `env:"FOYER_DATABASE_URL" envDefault:"postgres://foyer@127.0.0.1:5432/foyer?sslmode=disable"`
	// AdminToken is the bearer token of the admin API, at least
	// MinAdminTokenLength characters. The gateway refuses to start without
	// one; `foyer dev` makes one up and prints it.
	AdminToken string `env:"FOYER_ADMIN_TOKEN"`
	// SigningKeys are base64 Ed25519 seeds, comma separated: the first signs,
	// all verify. Every node must share them. `foyer dev` makes one up.
	SigningKeys []string `env:"FOYER_SIGNING_KEYS" envSeparator:","`
	// PowSecret signs the proof-of-work challenges shoppers solve before
	// joining a sale that asks for it (docs/pow.md); at least 16 bytes, the
	// same on every node. Empty: derived from the signing key (so it changes
	// when that key is rotated, and challenges issued before fail once).
	PowSecret string `env:"FOYER_POW_SECRET"`
	// IdentityHS256Secret is the shop's secret for the identity tokens it
	// signs with HS256 for its signed-in customers (docs/integration.md,
	// "Known customers"), at least MinIdentitySecretLength bytes. With
	// IdentityEd25519PublicKey, either or both; neither: identity is off,
	// and every identity token is refused.
	IdentityHS256Secret string `env:"FOYER_IDENTITY_HS256_SECRET"`
	// IdentityEd25519PublicKey is the base64 of the 32-byte Ed25519 public
	// key whose private half the shop signs identity tokens with (EdDSA).
	IdentityEd25519PublicKey string `env:"FOYER_IDENTITY_ED25519_PUBLIC_KEY"`
	// AllowedOrigins are the host patterns (e.g. "shop.example.com",
	// "*.example.com") browsers may open WebSockets from, besides Foyer's own host.
	AllowedOrigins []string `env:"FOYER_ALLOWED_ORIGINS" envSeparator:","`
	// NodeID names this process in leases and consumer groups. It must be
	// stable across restarts of the same node. Default: hostname.
	NodeID string `env:"FOYER_NODE_ID"`
	// AdmissionTick is how often the admitter runs each sale.
	AdmissionTick time.Duration `env:"FOYER_ADMISSION_TICK" envDefault:"100ms"`
	// SeriesRetention is how long after a sale's end its per-second series
	// is kept; 0 keeps it for ever (internal/salehistory).
	SeriesRetention time.Duration `env:"FOYER_SERIES_RETENTION" envDefault:"2160h"`
	// SeriesFlush is how often the sampler writes the points it gathered:
	// a sampler that dies loses at most this much of the series.
	SeriesFlush time.Duration `env:"FOYER_SERIES_FLUSH" envDefault:"10s"`
	// GracePeriod is how long a shopper whose connections all closed keeps
	// its place in the queue, or its turn once admitted.
	GracePeriod time.Duration `env:"FOYER_GRACE_PERIOD" envDefault:"60s"`
	// IdleTimeout is how long a shopper's WebSocket may stay silent (no
	// message, not even a ping) before it is taken for dead.
	IdleTimeout time.Duration `env:"FOYER_WS_IDLE_TIMEOUT" envDefault:"60s"`
	// The rate limits, per second with bursts of twice as many, counted in
	// Redis over every node (docs/defence.md); 0 turns one off. Per-IP
	// limits are generous because carriers put many phones behind one
	// address.
	LimitIPRequests       int `env:"FOYER_LIMIT_IP_REQUESTS" envDefault:"50"`
	LimitIPSessions       int `env:"FOYER_LIMIT_IP_SESSIONS" envDefault:"10"`
	LimitIPConnects       int `env:"FOYER_LIMIT_IP_CONNECTS" envDefault:"20"`
	LimitIPJoins          int `env:"FOYER_LIMIT_IP_JOINS" envDefault:"20"`
	LimitShopperMessages  int `env:"FOYER_LIMIT_SHOPPER_MESSAGES" envDefault:"5"`
	LimitShopperCheckouts int `env:"FOYER_LIMIT_SHOPPER_CHECKOUTS" envDefault:"2"`
	// LimitIPLogins and LimitAccountLogins are operator sign-ins per
	// minute, per client IP and per account named (docs/operators.md); 0
	// turns one off.
	LimitIPLogins      int `env:"FOYER_LIMIT_IP_LOGINS" envDefault:"20"`
	LimitAccountLogins int `env:"FOYER_LIMIT_ACCOUNT_LOGINS" envDefault:"10"`
	// MaxConnsPerIP and MaxConnsPerShopper cap the WebSockets open at once,
	// over every node; 0 turns a cap off.
	MaxConnsPerIP      int `env:"FOYER_MAX_CONNS_PER_IP" envDefault:"64"`
	MaxConnsPerShopper int `env:"FOYER_MAX_CONNS_PER_SHOPPER" envDefault:"32"`
	// MaxConnections and MaxJoinsPerSecond are this node's own ceilings;
	// past them new arrivals are told "busy, retry in N s". One process may
	// hold 20,000 files here; the join ceiling is what one node sustained
	// on a 2-core machine (docs/performance.md).
	MaxConnections    int `env:"FOYER_MAX_CONNECTIONS" envDefault:"18000"`
	MaxJoinsPerSecond int `env:"FOYER_MAX_JOINS_PER_SECOND" envDefault:"1000"`
	// The signals of automation recorded per shopper and shown to operators
	// (docs/defence.md); 0 turns one off. SignalEarlyJoin: a join answered
	// with a place this soon after the sale's start (the sale opens at the
	// admitter's first tick past it). SignalFastCheckout: a checkout this
	// soon after admission. SignalSessionsPerIP: more sessions than this
	// from the shopper's address in 10 minutes.
	SignalEarlyJoin     time.Duration `env:"FOYER_SIGNAL_EARLY_JOIN" envDefault:"100ms"`
	SignalFastCheckout  time.Duration `env:"FOYER_SIGNAL_FAST_CHECKOUT" envDefault:"800ms"`
	SignalSessionsPerIP int           `env:"FOYER_SIGNAL_SESSIONS_PER_IP" envDefault:"20"`
	// TrustedProxies are the load balancers (IPs or CIDRs, comma separated)
	// whose X-Forwarded-For names the client. Empty trusts none.
	TrustedProxies []string `env:"FOYER_TRUSTED_PROXIES" envSeparator:","`
	// WebhookSecret signs the payment provider's webhooks (HMAC-SHA256), at
	// least MinWebhookSecretLength bytes. Gateway and worker must share it.
	// `foyer dev` makes one up.
	WebhookSecret string `env:"FOYER_PAYMENT_WEBHOOK_SECRET"`
	// WebhookURL is where the payment provider posts its results: the
	// gateway's /v1/payments/webhook. Empty: the public URL's.
	WebhookURL string `env:"FOYER_PAYMENT_WEBHOOK_URL"`
	// PaymentOutcome is what the built-in test payment provider answers:
	// succeed, fail or never.
	PaymentOutcome string `env:"FOYER_PAYMENT_OUTCOME" envDefault:"succeed"`
	// PaymentProvider takes the money: "test", the built-in test provider
	// (FOYER_PAYMENT_OUTCOME says what it answers), or "stripe"
	// (docs/payments.md), which needs the two Stripe secrets below.
	PaymentProvider string `env:"FOYER_PAYMENT_PROVIDER" envDefault:"test"`
	// StripeSecretKey is the Stripe account's secret key (sk_... or a
	// restricted rk_...), which the worker charges with. Stripe only.
	StripeSecretKey string `env:"FOYER_STRIPE_SECRET_KEY"`
	// StripeWebhookSecret is the signing secret (whsec_...) of the Stripe
	// webhook endpoint the gateway serves. Stripe only.
	StripeWebhookSecret string `env:"FOYER_STRIPE_WEBHOOK_SECRET"`
	// StripePublishableKey is the Stripe account's publishable key
	// (pk_...), which the shopper's page pays with (Stripe's Payment
	// Element): the gateway tells it with a pending order's client secret.
	// Stripe only; not a secret, but the wrong one fails every payment.
	StripePublishableKey string `env:"FOYER_STRIPE_PUBLISHABLE_KEY"`
	// StripeAPIBase is Stripe's API address; empty is Stripe's own. Tests
	// point it at stripe-mock.
	StripeAPIBase string `env:"FOYER_STRIPE_API_BASE"`
	// PaymentTimeout is how long an order waits for its payment before it is
	// cancelled and its stock goes back to the sale.
	PaymentTimeout time.Duration `env:"FOYER_PAYMENT_TIMEOUT" envDefault:"10m"`
	// WorkerClaimIdle is how long a confirmed reservation may sit with an
	// order worker that took it without finishing before another worker
	// claims it: how long a crashed worker's orders wait.
	WorkerClaimIdle time.Duration `env:"FOYER_WORKER_CLAIM_IDLE" envDefault:"30s"`
	// StreamPartitions is how many partitions the order and payment
	// streams are split into (orderstream.Partitions): a sale's messages go
	// to one, and on a Redis Cluster they spread over the shards. From 1 to
	// orderstream.MaxPartitions; the same on every node. Workers read every
	// partition up to the highest count a gateway announced, so changing it
	// strands nothing (docs/architecture.md, "Stream partitions").
	StreamPartitions int `env:"FOYER_STREAM_PARTITIONS" envDefault:"8"`
	// The shop's webhooks (docs/integration.md, "Webhooks"): a failed
	// delivery is retried after a random delay below WebhookRetryBase,
	// then below twice that, and so on up to WebhookRetryMaxDelay, until
	// WebhookMaxAge after it was made; then it is dead. WebhookTimeout
	// bounds one attempt. WebhookPoll is how often an idle endpoint's lane
	// and each sale's event stream are looked at.
	WebhookRetryBase     time.Duration `env:"FOYER_WEBHOOK_RETRY_BASE" envDefault:"5s"`
	WebhookRetryMaxDelay time.Duration `env:"FOYER_WEBHOOK_RETRY_MAX_DELAY" envDefault:"1h"`
	WebhookMaxAge        time.Duration `env:"FOYER_WEBHOOK_MAX_AGE" envDefault:"24h"`
	WebhookTimeout       time.Duration `env:"FOYER_WEBHOOK_TIMEOUT" envDefault:"10s"`
	WebhookPoll          time.Duration `env:"FOYER_WEBHOOK_POLL" envDefault:"500ms"`
	// WebhookAllowPrivate lets webhook endpoints be on loopback and private
	// addresses (a shop on the same host or network). Off, they are
	// refused when registered and when dialled; link-local addresses (cloud
	// metadata) are refused either way.
	WebhookAllowPrivate bool `env:"FOYER_WEBHOOK_ALLOW_PRIVATE" envDefault:"false"`
	// WebhookRetention is how long webhook events and delivered or dead
	// deliveries are kept (the workers prune older ones, hourly), so how
	// far back a replay may reach: webhooks.MinRetention to MaxRetention.
	WebhookRetention time.Duration `env:"FOYER_WEBHOOK_RETENTION" envDefault:"720h"`
	// ShutdownGrace bounds a graceful shutdown.
	ShutdownGrace time.Duration `env:"FOYER_SHUTDOWN_GRACE" envDefault:"10s"`
	// LogLevel is debug, info, warn or error.
	LogLevel string `env:"FOYER_LOG_LEVEL" envDefault:"info"`
	// LogFormat is text or json.
	LogFormat string `env:"FOYER_LOG_FORMAT" envDefault:"text"`
	// DataDir is where `foyer dev` keeps its throwaway Redis and Postgres.
	DataDir string `env:"FOYER_DATA_DIR" envDefault:".data"`
	// DemoSale makes `foyer dev` create a demo sale at start.
	DemoSale bool `env:"FOYER_DEMO_SALE" envDefault:"true"`
	// DemoShopURL is where `foyer dev` expects the example shop
	// (examples/shop, `make shop`): with the demo sale it sets up a second
	// sale sold through that shop, and writes the shop's environment to
	// FOYER_DATA_DIR/shop.env. "off": no shop demo.
	DemoShopURL string `env:"FOYER_DEMO_SHOP_URL" envDefault:"http://localhost:8081"`
}

// LoadConfig reads the configuration from an environment given as a map, so
// tests never touch the process's own environment. Use Environ() for that.
func LoadConfig(environ map[string]string) (Config, error) {
	cfg, err := env.ParseAsWithOptions[Config](env.Options{Environment: environ})
	if err != nil {
		return Config{}, fmt.Errorf("read configuration: %w", err)
	}
	if cfg.NodeID == "" {
		host, _ := os.Hostname()
		cfg.NodeID = host
	}
	if !checkout.ValidOutcome(cfg.PaymentOutcome) {
		return Config{}, fmt.Errorf("read configuration: FOYER_PAYMENT_OUTCOME must be succeed, fail or never, not %q", cfg.PaymentOutcome)
	}
	if cfg.PaymentProvider != providerTest && cfg.PaymentProvider != providerStripe {
		return Config{}, fmt.Errorf("read configuration: FOYER_PAYMENT_PROVIDER must be test or stripe, not %q", cfg.PaymentProvider)
	}
	if cfg.WebhookRetention < webhooks.MinRetention || cfg.WebhookRetention > webhooks.MaxRetention {
		return Config{}, fmt.Errorf("read configuration: FOYER_WEBHOOK_RETENTION must be from %s to %s, not %s",
			webhooks.MinRetention, webhooks.MaxRetention, cfg.WebhookRetention)
	}
	if cfg.PaymentTimeout < minPaymentTimeout || cfg.PaymentTimeout > maxPaymentTimeout {
		return Config{}, fmt.Errorf("read configuration: FOYER_PAYMENT_TIMEOUT must be from 1s to 24h, not %s", cfg.PaymentTimeout)
	}
	if cfg.RedisWaitReplicas < 0 || cfg.RedisWaitReplicas > maxRedisWaitReplicas {
		return Config{}, fmt.Errorf("read configuration: FOYER_REDIS_WAIT_REPLICAS must be from 0 to %d, not %d",
			maxRedisWaitReplicas, cfg.RedisWaitReplicas)
	}
	if cfg.RedisWaitTimeout < minRedisWaitTimeout || cfg.RedisWaitTimeout > maxRedisWaitTimeout {
		return Config{}, fmt.Errorf("read configuration: FOYER_REDIS_WAIT_TIMEOUT must be from %s to %s, not %s",
			minRedisWaitTimeout, maxRedisWaitTimeout, cfg.RedisWaitTimeout)
	}
	if cfg.SeriesFlush < minSeriesFlush || cfg.SeriesFlush > maxSeriesFlush {
		return Config{}, fmt.Errorf("read configuration: FOYER_SERIES_FLUSH must be from %s to %s, not %s",
			minSeriesFlush, maxSeriesFlush, cfg.SeriesFlush)
	}
	if cfg.SeriesRetention != 0 && cfg.SeriesRetention < minSeriesRetention {
		return Config{}, fmt.Errorf("read configuration: FOYER_SERIES_RETENTION must be 0 (for ever) or from %s, not %s",
			minSeriesRetention, cfg.SeriesRetention)
	}
	if cfg.WebhookPoll < webhooks.MinPoll || cfg.WebhookPoll > webhooks.MaxPoll {
		return Config{}, fmt.Errorf("read configuration: FOYER_WEBHOOK_POLL must be from %s to %s, not %s",
			webhooks.MinPoll, webhooks.MaxPoll, cfg.WebhookPoll)
	}
	if _, err := orderstream.NewPartitions(cfg.StreamPartitions); err != nil {
		return Config{}, fmt.Errorf("read configuration: FOYER_STREAM_PARTITIONS: %w", err)
	}
	if cfg.LogFormat != "text" && cfg.LogFormat != "json" {
		return Config{}, fmt.Errorf("read configuration: FOYER_LOG_FORMAT must be text or json, not %q", cfg.LogFormat)
	}
	return cfg, nil
}

// The shortest secrets a node starts with. The admin token guards every
// sale: 24 characters are 96 bits of hex or 120 of base32 (openssl rand -hex
// 16 makes 32, crypto/rand.Text 26). The webhook secret is an HMAC-SHA256
// key, which should be as long as the hash: 32 bytes. FOYER_POW_SECRET keeps
// its own floor of 16 bytes (internal/defence/pow).
const (
	MinAdminTokenLength    = 24
	MinWebhookSecretLength = 32
	// MinIdentitySecretLength is the shortest HS256 identity secret: an
	// HMAC-SHA256 key as long as the hash.
	MinIdentitySecretLength = 32
	minPowSecretLength      = 16
	// minDistinctSecretChars is the fewest different characters a secret
	// may hold: fewer is a placeholder ("aaaa...", "0000..."), not a draw.
	// A random hex string of 24 has fewer than 5 about once in 10^11.
	minDistinctSecretChars = 5
)

// The payment providers FOYER_PAYMENT_PROVIDER names.
const (
	providerTest   = "test"
	providerStripe = "stripe"
)

// ErrNoAdminToken means the gateway was asked to start without an admin token.
var ErrNoAdminToken = errors.New("FOYER_ADMIN_TOKEN is not set")

// ErrNoWebhookSecret means a gateway or worker was asked to start without
// the payment webhook secret.
var ErrNoWebhookSecret = errors.New("FOYER_PAYMENT_WEBHOOK_SECRET is not set")

// ErrNoStripeSecret means FOYER_PAYMENT_PROVIDER is stripe and a Stripe
// secret the node needs (or the publishable key, which is not secret but
// as needed) is not set; the message names it.
var ErrNoStripeSecret = errors.New("a Stripe secret is not set")

// ErrNoSigningKey means the gateway was asked to start without a signing key.
var ErrNoSigningKey = errors.New("FOYER_SIGNING_KEYS is not set")

// ErrWeakSecret means a secret is set but too short or too plain to keep
// anyone out; the message names the variable and what is wrong.
var ErrWeakSecret = errors.New("weak secret")

// checkGateway refuses, before anything connects, the secrets a gateway
// could start with and still be open to a guess, or (a signing key listed
// twice) start and then refuse its own tokens. Every problem is reported,
// not only the first.
func (c Config) checkGateway() error {
	var errs []error
	switch {
	case c.AdminToken == "":
		errs = append(errs, ErrNoAdminToken)
	default:
		errs = append(errs, checkSecret("FOYER_ADMIN_TOKEN", c.AdminToken, MinAdminTokenLength, "characters", "openssl rand -hex 16"))
	}
	if len(c.SigningKeys) == 0 {
		errs = append(errs, ErrNoSigningKey)
	} else if _, err := keyring.New(c.SigningKeys...); err != nil {
		errs = append(errs, fmt.Errorf("FOYER_SIGNING_KEYS: %w", err))
	}
	if c.PowSecret != "" {
		errs = append(errs, checkSecret("FOYER_POW_SECRET", c.PowSecret, minPowSecretLength, "bytes", "openssl rand -hex 16"))
	}
	if c.IdentityHS256Secret != "" {
		errs = append(errs, checkSecret("FOYER_IDENTITY_HS256_SECRET", c.IdentityHS256Secret, MinIdentitySecretLength, "bytes", "openssl rand -hex 32"))
	}
	if _, err := c.identityKeys(); err != nil {
		errs = append(errs, err)
	}
	if err := server.CheckShopURL(c.ShopURL); err != nil {
		errs = append(errs, fmt.Errorf("FOYER_SHOP_URL: %w", err))
	}
	errs = append(errs, c.checkPaymentWebhookSecret())
	if c.PaymentProvider == providerStripe {
		errs = append(errs, checkStripeSecret("FOYER_STRIPE_WEBHOOK_SECRET", c.StripeWebhookSecret, "whsec_",
			"the signing secret of the webhook endpoint in Stripe's dashboard"))
		errs = append(errs, checkStripeSecret("FOYER_STRIPE_PUBLISHABLE_KEY", c.StripePublishableKey, "pk_",
			"the account's publishable key from Stripe's dashboard, which the shopper's page pays with"))
	}
	return errors.Join(errs...)
}

// stripePublishableKey is what the gateway tells shoppers' pages to pay
// with: the publishable key when Stripe takes the money, "" otherwise (the
// test provider pays by itself, and the page loads nothing of Stripe's).
func (c Config) stripePublishableKey() string {
	if c.PaymentProvider != providerStripe {
		return ""
	}
	return c.StripePublishableKey
}

// identityKeys are the shop's keys for identity tokens; none: identity off.
func (c Config) identityKeys() (identity.Keys, error) {
	keys := identity.Keys{HS256Secret: []byte(c.IdentityHS256Secret)}
	if c.IdentityEd25519PublicKey != "" {
		key, err := base64.StdEncoding.DecodeString(c.IdentityEd25519PublicKey)
		if err != nil || len(key) != ed25519.PublicKeySize {
			return identity.Keys{}, fmt.Errorf("FOYER_IDENTITY_ED25519_PUBLIC_KEY must be the base64 of a %d-byte Ed25519 public key", ed25519.PublicKeySize)
		}
		keys.Ed25519 = key
	}
	return keys, nil
}

// checkWorker refuses the secrets a worker uses that are missing or weak.
func (c Config) checkWorker() error {
	err := c.checkPaymentWebhookSecret()
	if c.PaymentProvider == providerStripe {
		err = errors.Join(err, checkStripeSecret("FOYER_STRIPE_SECRET_KEY", c.StripeSecretKey, "sk_",
			"the account's secret key (or a restricted rk_ key) from Stripe's dashboard"))
	}
	return err
}

// checkStripeSecret says what is wrong with a Stripe secret, or nil. Its
// form is Stripe's: a prefix, then the secret; a restricted key (rk_)
// serves where a secret key does.
func checkStripeSecret(variable, secret, prefix, what string) error {
	if secret == "" {
		return fmt.Errorf("%w: %s is not set; FOYER_PAYMENT_PROVIDER=stripe needs %s", ErrNoStripeSecret, variable, what)
	}
	if !strings.HasPrefix(secret, prefix) && (prefix != "sk_" || !strings.HasPrefix(secret, "rk_")) {
		return fmt.Errorf("%w: %s does not start with %s: it is not %s", ErrWeakSecret, variable, prefix, what)
	}
	return nil
}

// checkPaymentWebhookSecret refuses a missing or weak secret of Foyer's own
// payment webhook, which gateway and worker share.
func (c Config) checkPaymentWebhookSecret() error {
	if c.WebhookSecret == "" {
		return ErrNoWebhookSecret
	}
	return checkSecret("FOYER_PAYMENT_WEBHOOK_SECRET", c.WebhookSecret, MinWebhookSecretLength, "bytes", "openssl rand -hex 32")
}

// checkSecret says what is wrong with secret, the value of variable, or nil.
func checkSecret(variable, secret string, minLen int, unit, makeOne string) error {
	if len(secret) < minLen {
		return fmt.Errorf("%w: %s is %d %s long; it must be at least %d (make one with %s)",
			ErrWeakSecret, variable, len(secret), unit, minLen, makeOne)
	}
	distinct := map[rune]bool{}
	for _, r := range secret {
		distinct[r] = true
	}
	if len(distinct) < minDistinctSecretChars {
		return fmt.Errorf("%w: %s has only %d different characters: it is a placeholder, not a random value (make one with %s)",
			ErrWeakSecret, variable, len(distinct), makeOne)
	}
	return nil
}

// partitions are the stream partitions configured; LoadConfig refused a
// count out of bounds, and a Config built by hand without one has one.
func (c Config) partitions() orderstream.Partitions {
	p, err := orderstream.NewPartitions(c.StreamPartitions)
	if err != nil {
		return orderstream.Partitions{}
	}
	return p
}

// Environ returns the process's environment as LoadConfig takes it.
func Environ() map[string]string { return env.ToMap(os.Environ()) }

// publicURL is the configured public URL, or one made from the address the
// gateway really listens on.
func (c Config) publicURL(listenAddr string) string {
	if c.PublicURL != "" {
		return strings.TrimRight(c.PublicURL, "/")
	}
	port := listenAddr[strings.LastIndex(listenAddr, ":")+1:]
	return "http://localhost:" + port
}

// EnvVars lists every environment variable Config reads with its default,
// in the order of Config's fields, for the README table and the tests that
// keep that table and docker-compose.yml in step with the code.
func EnvVars() []EnvVar {
	t := reflect.TypeFor[Config]()
	vars := make([]EnvVar, 0, t.NumField())
	for f := range t.Fields() {
		if name := f.Tag.Get("env"); name != "" {
			vars = append(vars, EnvVar{Name: name, Default: f.Tag.Get("envDefault")})
		}
	}
	return vars
}

// EnvVar is one setting's variable and its default.
type EnvVar struct {
	Name    string
	Default string
}
