package server

import (
	"math"
	"time"

	"golang.org/x/time/rate"
)

// The node's own ceilings (Limits.MaxConnections, MaxJoinsPerSecond) keep
// it standing under a flood: past them, a new arrival is told "busy, retry
// in N s" at once (HTTP 503 with Retry-After before the WebSocket opens, or
// an error message busy with retry_after for a join) instead of waiting in
// a queue that grows until everyone times out.

// nodeJoinCeiling is the node's joins-per-second bucket (a burst of one
// second's worth), or nil when there is no ceiling.
func nodeJoinCeiling(perSecond int) *rate.Limiter {
	if perSecond <= 0 {
		return nil
	}
	return rate.NewLimiter(rate.Limit(perSecond), perSecond)
}

// admitJoin takes a join from the node's bucket, or says when to retry.
func (s *Server) admitJoin() error {
	if s.joins == nil {
		return nil
	}
	r := s.joins.Reserve()
	delay := r.Delay()
	if delay == 0 {
		return nil
	}
	r.Cancel()
	return busyError{retryAfter: wholeSeconds(delay)}
}

// admitConnection refuses a new connection when the node holds its most.
func (s *Server) admitConnection() error {
	most := s.cfg.Limits.MaxConnections
	if most > 0 && s.hub.Open() >= int64(most) {
		return busyError{retryAfter: 5}
	}
	return nil
}

// wholeSeconds rounds d up to whole seconds, at least one.
func wholeSeconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}
