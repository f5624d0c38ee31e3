package server

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/coder/websocket"
	"github.com/gin-gonic/gin"

	"github.com/foyerhq/foyer/internal/livestats"
	"github.com/foyerhq/foyer/internal/wire"
)

// AdminSubprotocol is the subprotocol of the dashboard's live feed.
const AdminSubprotocol = "foyer.admin.v1"

// AdminTokenProtocolPrefix starts the second subprotocol a client of the
// live feed offers: the admin token, base64url without padding, after it
// ("bearer.<token>"). Browsers cannot set headers on a WebSocket, and a
// token in the URL is written down by every proxy on the way; the
// Sec-WebSocket-Protocol header is the one header they can set, and the
// server never echoes this value back (it selects AdminSubprotocol).
const AdminTokenProtocolPrefix = "bearer."

// AdminTokenProtocol is the subprotocol that carries token to the live feed.
func AdminTokenProtocol(token string) string {
	return AdminTokenProtocolPrefix + base64.RawURLEncoding.EncodeToString([]byte(token))
}

// offeredAdminToken is the admin token among the subprotocols r offers.
func offeredAdminToken(r *http.Request) (string, bool) {
	for _, h := range r.Header.Values("Sec-WebSocket-Protocol") {
		for p := range strings.SplitSeq(h, ",") {
			if enc, ok := strings.CutPrefix(strings.TrimSpace(p), AdminTokenProtocolPrefix); ok {
				token, err := base64.RawURLEncoding.DecodeString(enc)
				return string(token), err == nil
			}
		}
	}
	return "", false
}

// liveEvery is how often the dashboard is pushed the numbers.
const liveEvery = time.Second

// LiveStats reads what the dashboard shows.
type LiveStats interface {
	Snapshot(ctx context.Context) (livestats.Snapshot, error)
}

// liveSale is a sale in a stats push: the snapshot plus rates measured
// between two pushes.
type liveSale struct {
	livestats.SaleSnapshot
	JoinsPerSecond      float64 `json:"joins_per_second"`
	AdmissionsPerSecond float64 `json:"admissions_per_second"`
	OrdersPerSecond     float64 `json:"orders_per_second"`
}

type liveMsg struct {
	Type     string                   `json:"type"`
	At       int64                    `json:"at"`
	Sales    []liveSale               `json:"sales"`
	Nodes    []livestats.NodeSnapshot `json:"nodes"`
	Pipeline livestats.PipelineStatus `json:"pipeline"`
	Warnings []string                 `json:"warnings,omitempty"` // the node's setup problems, for a banner
}

// adminLive pushes the dashboard its numbers every second over a
// WebSocket. The admin token comes as a subprotocol (AdminTokenProtocol); a
// missing or wrong one closes with 4001, and so does one in the URL's
// query, where it would be logged: it is refused even when right, so that
// no client goes on leaking it.
func (s *Server) adminLive(c *gin.Context) {
	ws, err := websocket.Accept(c.Writer, c.Request, &websocket.AcceptOptions{
		Subprotocols: []string{AdminSubprotocol}, OriginPatterns: s.cfg.AllowedOrigins,
	})
	if err != nil {
		return
	}
	ctx := c.Request.Context()
	if c.Request.URL.Query().Has("token") {
		s.refuse(ctx, ws, fmt.Errorf("%w: the admin token goes in the subprotocol %s<base64url token>, never in the URL",
			errUnauthorized, AdminTokenProtocolPrefix), wire.CloseSessionInvalid)
		return
	}
	token, ok := offeredAdminToken(c.Request)
	if !ok {
		s.refuse(ctx, ws, errUnauthorized, wire.CloseSessionInvalid)
		return
	}
	if _, err := s.identify(ctx, token); err != nil { // any role may watch
		s.refuse(ctx, ws, err, wire.CloseSessionInvalid)
		return
	}
	defer ws.CloseNow()
	ctx = ws.CloseRead(ctx) // the dashboard only listens; this notices it leave
	t := time.NewTicker(liveEvery)
	defer t.Stop()
	var prev *liveMsg
	for {
		snap, err := s.deps.Live.Snapshot(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			s.deps.Log.Warn("dashboard snapshot", "err", err)
		} else {
			msg := rated(snap, prev, time.Now())
			wctx, cancel := context.WithTimeout(ctx, writeTimeout)
			err := ws.Write(wctx, websocket.MessageText, encode(msg))
			cancel()
			if err != nil {
				return
			}
			prev = &msg
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		// An operator's session that ended (signed out, expired, account
		// disabled) ends the feed too; Postgres out of reach does not.
		if _, err := s.identify(ctx, token); err != nil && !errors.Is(unavailableIf(err), errUnavailable) && ctx.Err() == nil {
			s.refuse(ctx, ws, err, wire.CloseSessionInvalid)
			return
		}
	}
}

// rated turns a snapshot into a push, with the rates since the previous one.
func rated(snap livestats.Snapshot, prev *liveMsg, now time.Time) liveMsg {
	msg := liveMsg{Type: "stats", At: now.UnixMilli(), Nodes: snap.Nodes, Pipeline: snap.Pipeline, Warnings: snap.Warnings}
	before := map[string]liveSale{}
	var secs float64
	if prev != nil {
		secs = float64(msg.At-prev.At) / 1000
		for _, s := range prev.Sales {
			before[s.ID] = s
		}
	}
	for _, s := range snap.Sales {
		ls := liveSale{SaleSnapshot: s}
		if b, ok := before[s.ID]; ok && secs > 0 {
			ls.JoinsPerSecond = max(0, float64(s.Funnel.Joined-b.Funnel.Joined)/secs)
			ls.AdmissionsPerSecond = max(0, float64(s.Funnel.Admitted-b.Funnel.Admitted)/secs)
			ls.OrdersPerSecond = max(0, float64(s.Orders-b.Orders)/secs)
		}
		msg.Sales = append(msg.Sales, ls)
	}
	if msg.Sales == nil {
		msg.Sales = []liveSale{}
	}
	return msg
}
