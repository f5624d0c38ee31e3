package server

import (
	"context"
	"errors"
	"fmt"

	"github.com/foyerhq/foyer/checkout"
	"github.com/foyerhq/foyer/internal/wire"
)

// A checkout sent over the tab's own socket (wire.CmdCheckout) is the HTTP
// checkout's twin: the same token, quantity and product, the same limits,
// the same confirmation and the same error codes. What it spares is an HTTP
// request per order (the request's parsing, the middleware, the client's
// own round trip), most of what a gateway spent on an order beside its
// Redis script (docs/performance.md, issue 21). Its answer is the order
// message the tab is told anyway, "confirmed", which later news of the
// order is told over; a refusal is an error message in reply to it.

// socketCheckoutKey names a socket checkout's request for the confirmation
// (checkout.WithIdempotencyKey): the same checkout sent again, after a
// reconnection that lost its answer, is answered as the first was instead
// of token_reused. Apart from any key a client sends over HTTP.
func socketCheckoutKey(token string, ch choice) string {
	return "socket:" + fingerprintOf(token, ch)
}

// inReplyTo marks an error told in reply to one client message: the error
// message names it (in_reply_to), so a client that sent a checkout knows
// the refusal is its answer.
type inReplyTo struct {
	msgType string
	err     error
}

func (e *inReplyTo) Error() string { return e.err.Error() }
func (e *inReplyTo) Unwrap() error { return e.err }

// replyingTo is what an error message says it answers: "" for most.
func replyingTo(err error) string {
	var r *inReplyTo
	if errors.As(err, &r) {
		return r.msgType
	}
	return ""
}

// checkoutChoice reads what a checkout message buys, refusing what the
// HTTP checkout refuses, and a message without a token.
func checkoutChoice(m wire.ClientMsg) (choice, error) {
	if m.Token == "" {
		return choice{}, fmt.Errorf("%w: a checkout carries the admitted message's token", errBadMessage)
	}
	return choiceOf(m.Quantity, m.Product, errBadMessage)
}

// checkout confirms the reservation whose token the tab sent and answers
// it with the order message; its errors are told in reply to the checkout.
func (ss *session) checkout(ctx context.Context, m wire.ClientMsg) error {
	outcome, err := ss.checkoutOutcome(ctx, m)
	ss.s.metrics.checkouts.WithLabelValues(wire.CmdCheckout+"_socket", outcome).Inc()
	if err != nil {
		return &inReplyTo{msgType: wire.CmdCheckout, err: err}
	}
	return nil
}

// checkoutOutcome runs a socket's checkout and names its outcome as
// foyer_checkouts_total counts it.
func (ss *session) checkoutOutcome(ctx context.Context, m wire.ClientMsg) (string, error) {
	ch, err := checkoutChoice(m)
	if err != nil {
		return "refused", err
	}
	// As over HTTP, nothing is stored before the token verifies.
	verified, err := ss.s.deps.Tokens.VerifyFor(ss.saleID, m.Token)
	if err != nil {
		return "refused", err
	}
	claims := verified.Claims()
	// The answer goes to this tab, and the order's news to the token's
	// shopper's tabs: a token of another shopper is checked out over
	// HTTP, or over a socket of its own session.
	if claims.Subject != ss.shopper {
		return "refused", fmt.Errorf("%w: the token is another shopper's", checkout.ErrTokenInvalid)
	}
	if err := ss.s.chargeCheckout(ctx, verified); err != nil {
		return "refused", err
	}
	// Run to its end if the tab goes, as over HTTP: confirm.lua may have
	// run already.
	work, cancel := context.WithTimeout(context.WithoutCancel(ctx), claimedFor)
	defer cancel()
	work = checkout.WithIdempotencyKey(work, socketCheckoutKey(m.Token, ch))
	receipt, err := ss.s.deps.Checkout.CheckoutVerified(work, verified, ch.product, ch.quantity)
	if err != nil {
		return "refused", err // sendError logs ours
	}
	outcome := "replayed"
	if !receipt.Replayed {
		outcome = "confirmed"
		ss.s.flagCheckout(work, ss.saleID, receipt, ss.addr.String())
	}
	ss.room.CheckedOut(ss.conn, receipt.ReservationID, receipt.SKU, receipt.Quantity)
	return outcome, nil
}
