package webhooks

import "time"

// WithLease gives cfg a lane lease of length lease, renewed margin before
// its end past Timeout: short enough for a test to see it renewed.
func WithLease(cfg Config, lease, margin time.Duration) Config {
	cfg.leaseFor, cfg.renewMargin = lease, margin
	return cfg
}
