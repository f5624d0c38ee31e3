// Package webhooks sends the shop what happens to its orders and sales, as
// signed HTTP POSTs to the endpoints it registers (docs/integration.md,
// "Webhooks").
//
// It owns three things. The endpoints (endpoints.go): made, listed and
// deleted through the admin API, each with a secret shown once. The events
// (events.go, tail.go): an order's events are written by the order workers'
// own transactions through Recorder, so an event exists exactly when what
// it tells is committed; a sale's events are read from its Redis event
// stream behind a cursor kept in Postgres. Both have ids derived from what
// happened, so recording the same thing twice records it once. And the
// deliveries (dispatcher.go, lane.go): one row per event and endpoint, sent at least
// once, in order per reservation (and per sale), retried with exponential
// backoff and full jitter for MaxAge, then dead.
//
// Its promise: a slow or dead endpoint delays only its own deliveries (each
// endpoint has a lane of its own; no checkout waits for any of them), and
// two workers never send the same delivery at once (one at a time holds an
// endpoint's lease: lanelease.go).
package webhooks
