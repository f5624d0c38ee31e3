package ratelimit

import (
	"errors"
	"fmt"
	"time"
)

// Errors a caller decides on. The server maps each to one HTTP status (429,
// with Retry-After for ErrLimited) and one WebSocket error code.
var (
	// ErrLimited means the key used up its budget under a rule. The error
	// returned is a *LimitedError that says when to come back.
	ErrLimited = errors.New("rate limited")
	// ErrTooManyConns means the key already holds as many open connections as
	// it may.
	ErrTooManyConns = errors.New("too many connections")
	// ErrUnknownRule means Allow was asked about a rule the Limiter was not
	// built with: a wiring mistake, let through like any other failure.
	ErrUnknownRule = errors.New("unknown rate limit rule")
)

// LimitedError is ErrLimited with the wait before the key may try again.
type LimitedError struct {
	Rule       string
	RetryAfter time.Duration // exact, as the limiter computed it
}

func (e *LimitedError) Error() string {
	return fmt.Sprintf("%s: %v, retry after %ds", e.Rule, ErrLimited, e.RetryAfterSeconds())
}

// Is makes errors.Is(err, ErrLimited) true for every *LimitedError.
func (e *LimitedError) Is(target error) bool { return target == ErrLimited }

// RetryAfterSeconds is the wait rounded up to whole seconds, at least 1, as the
// Retry-After header wants it: rounding down would send the client back too
// early, into another refusal.
func (e *LimitedError) RetryAfterSeconds() int { return ceilSeconds(e.RetryAfter) }

// RetryAfter returns the wait carried by err, if err is (or wraps) a
// *LimitedError.
func RetryAfter(err error) (time.Duration, bool) {
	var le *LimitedError
	if errors.As(err, &le) {
		return le.RetryAfter, true
	}
	return 0, false
}

func ceilSeconds(d time.Duration) int {
	s := int((d + time.Second - 1) / time.Second)
	return max(s, 1)
}
