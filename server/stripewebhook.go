package server

import (
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/foyerhq/foyer/checkout"
	"github.com/foyerhq/foyer/internal/stripepay"
)

// StripeWebhooks verifies Stripe's own webhooks and reads the payment result
// each carries (stripepay.Webhooks does).
type StripeWebhooks interface {
	Verify(body []byte, headers http.Header) (stripepay.Event, error)
}

// stripeWebhook takes a Stripe event, verified by Stripe's library, and
// hands the payment result it carries to the order workers, as
// paymentWebhook does Foyer's own. It is idempotent as they are: settling an
// order already settled changes nothing, so an event Stripe sends again (its
// retries carry the same event id) is published again and does nothing. An
// event Foyer has no use for is acknowledged, so Stripe stops sending it.
func (s *Server) stripeWebhook(c *gin.Context) {
	body, err := io.ReadAll(io.LimitReader(c.Request.Body, maxWebhookBody))
	if err != nil {
		s.fail(c, fmt.Errorf("%w: %v", errBadRequest, err))
		return
	}
	ev, err := s.deps.Stripe.Verify(body, c.Request.Header)
	if err != nil {
		if !errors.Is(err, checkout.ErrBadSignature) && !errors.Is(err, checkout.ErrWebhookExpired) {
			err = fmt.Errorf("%w: %v", errBadRequest, err)
		}
		s.fail(c, err)
		return
	}
	if ev.Result == nil {
		s.deps.Log.Info("stripe webhook ignored", "event", ev.ID, "type", ev.Type, "why", ev.Ignored)
		c.JSON(http.StatusOK, gin.H{"status": "ignored"})
		return
	}
	if err := s.deps.Payments.Report(c.Request.Context(), *ev.Result); err != nil {
		s.fail(c, err)
		return
	}
	s.deps.Log.Info("stripe webhook accepted", "event", ev.ID, "type", ev.Type, "order", ev.Result.OrderID,
		"status", ev.Result.Status)
	c.JSON(http.StatusOK, gin.H{"status": "accepted"})
}
