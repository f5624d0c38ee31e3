// Package ratelimit owns the limits that protect the gateway from one client
// asking too much: request rates per key (an IP, a shopper) and the number of
// connections a key holds open at once.
//
// Both are kept in Redis, so a limit holds across every gateway node: a client
// that spreads its requests over twenty nodes gets the budget of one, not of
// twenty.
//
// It promises to fail open. When Redis cannot answer, a request or connection
// is let through and the error is handed back for the caller to log: a limiter
// exists to keep the sale up, so it must never be the thing that takes it down.
// A caller refuses only on ErrLimited or ErrTooManyConns.
package ratelimit
