package server

import (
	"context"
	"log/slog"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/foyerhq/foyer/checkout"
	"github.com/foyerhq/foyer/waitingroom"
)

// Signals are the thresholds of the signals of automation a gateway records
// per shopper (docs/defence.md). A zero one is off. Recording never fails a
// shopper's request: a failure is logged.
type Signals struct {
	// EarlyJoin flags a join answered with a place (not a prequeue ticket)
	// this soon after the sale's start, by the node's clock: early_join.
	// Defaults (FOYER_SIGNAL_EARLY_JOIN) to 100ms.
	EarlyJoin time.Duration
	// FastCheckout flags a checkout this soon after the reservation's
	// admission, both by Redis's clock: fast_checkout. Defaults to 800ms.
	FastCheckout time.Duration
	// SessionsPerIP flags a shopper whose session came from an address that
	// made more sessions than this in the tally's window (10 minutes):
	// many_identities. Defaults to 20.
	SessionsPerIP int
}

// SessionTally counts the sessions each address makes, over every node.
type SessionTally interface {
	// Add counts one more session for ip and returns the address's count in
	// the window, this one included.
	Add(ctx context.Context, ip string) (int64, error)
}

// sessionClaims are the claims of a session token: the subject is the
// shopper.
type sessionClaims struct {
	jwt.RegisteredClaims
	// IPSessions is how many sessions the address that asked for this one
	// had made in the tally's window, this one included (0: not counted). It
	// rides in the token so that a join learns it without asking Redis.
	IPSessions int64 `json:"ips,omitempty"`
	// Customer marks a session made from the shop's identity token; Groups
	// are the shop's groups the customer is in, for eligibility.
	Customer bool     `json:"customer,omitempty"`
	Groups   []string `json:"groups,omitempty"`
	// CustomerID is the shop's own customer id (the identity token's sub),
	// recorded with the shopper as it joins a sale so its orders carry it.
	CustomerID string `json:"cid,omitempty"`
}

// countSession tallies a new session of ip, when many_identities is on. A
// tally that cannot reach Redis counts nothing: the session is made anyway.
func (s *Server) countSession(ctx context.Context, ip string) int64 {
	if s.cfg.Signals.SessionsPerIP <= 0 || s.deps.Sessions == nil {
		return 0
	}
	n, err := s.deps.Sessions.Add(ctx, ip)
	if err != nil {
		s.deps.Log.Warn("count sessions per address", "ip", ip, "err", err)
	}
	return n
}

// forJoin are the signals a join shows: answered with a place right after
// the start, from a session of a busy address.
func (sg Signals) forJoin(place waitingroom.Place, startsAt, now time.Time, ipSessions int64) []string {
	var signals []string
	if sg.EarlyJoin > 0 && place.Ticket > 0 && !startsAt.IsZero() && now.Sub(startsAt) < sg.EarlyJoin {
		signals = append(signals, waitingroom.SignalEarlyJoin)
	}
	if sg.SessionsPerIP > 0 && ipSessions > int64(sg.SessionsPerIP) {
		signals = append(signals, waitingroom.SignalManyIdentities)
	}
	return signals
}

// fastCheckout reports whether a checkout came implausibly soon after its
// admission.
func (sg Signals) fastCheckout(r checkout.Receipt) bool {
	return sg.FastCheckout > 0 && r.Shopper != "" && r.AdmittedAt.UnixMilli() > 0 &&
		r.ConfirmedAt.Sub(r.AdmittedAt) < sg.FastCheckout
}

// flagJoin records what a join's signals say about the shopper and returns
// where the sale's policy leaves it: the same place, or a new place at the
// back; removed says the policy took the shopper out of the queue instead,
// and its tabs on this node have been told. A join that shows no signal
// costs nothing more.
func (ss *session) flagJoin(ctx context.Context, place waitingroom.Place) (_ waitingroom.Place, removed bool) {
	signals := ss.s.cfg.Signals.forJoin(place, ss.room.StartTime(), time.Now(), ss.ipSessions)
	if len(signals) == 0 {
		return place, false
	}
	addr := ""
	if ss.addr.IsValid() {
		addr = ss.addr.String()
	}
	out, err := ss.s.deps.Rooms.Flag(ctx, ss.saleID, ss.shopper, addr, signals)
	if err != nil {
		ss.s.deps.Log.Warn("record signals of automation", "sale", ss.saleID, "shopper", ss.shopper,
			"signals", signals, "err", err)
		return place, false
	}
	// A flag that moved nothing is in the flags hash for operators; a line
	// per join of every bot of a farm would drown the log.
	level := slog.LevelDebug
	if out.Outcome != waitingroom.FlagKept {
		level = slog.LevelInfo
	}
	ss.s.deps.Log.Log(ctx, level, "shopper flagged", "sale", ss.saleID, "shopper", ss.shopper,
		"signals", signals, "policy", out.Policy, "outcome", out.Outcome)
	switch out.Outcome {
	case waitingroom.FlagRemoved:
		ss.room.Flagged(ss.shopper, ss.conn)
		return place, true
	case waitingroom.FlagRequeued:
		ss.room.Requeued(ss.shopper, out.Ticket, out.Position, ss.conn)
		place.Ticket, place.Position = out.Ticket, out.Position
	}
	return place, false
}

// flagCheckout records fast_checkout for a checkout that came implausibly
// soon after its admission. The shopper holds its reservation, so no policy
// moves it; under remove, its later joins are refused.
func (s *Server) flagCheckout(ctx context.Context, saleID string, r checkout.Receipt, ip string) {
	if !s.cfg.Signals.fastCheckout(r) {
		return
	}
	if _, err := s.deps.Rooms.Flag(ctx, saleID, r.Shopper, ip, []string{waitingroom.SignalFastCheckout}); err != nil {
		s.deps.Log.Warn("record signals of automation", "sale", saleID, "shopper", r.Shopper,
			"signals", waitingroom.SignalFastCheckout, "err", err)
	}
}
