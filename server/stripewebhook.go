package server

import (
	"context"
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

// StripeEventLog remembers the Stripe events handed to the workers
// (stripepay.Events does): Claim says whether an event id is new, Release
// forgets one that could not be handed on.
type StripeEventLog interface {
	Claim(ctx context.Context, id string) (bool, error)
	Release(ctx context.Context, id string) error
}

// stripeWebhook takes a Stripe event, verified by Stripe's library, and
// hands the payment result it carries to the order workers, as
// paymentWebhook does Foyer's own. It is idempotent as they are: settling an
// order already settled changes nothing. An event Stripe sends again (its
// retries carry the same event id) is answered 200 "duplicate" and not
// handed on again when StripeEvents remembers its id; an event that could
// not be handed on is forgotten, so that Stripe's retry is taken. An event
// Foyer has no use for is acknowledged, so Stripe stops sending it.
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
	ctx := c.Request.Context()
	if s.deps.StripeEvents != nil {
		first, err := s.deps.StripeEvents.Claim(ctx, ev.ID)
		if err != nil {
			s.fail(c, err)
			return
		}
		if !first {
			s.deps.Log.Info("stripe webhook seen before", "event", ev.ID, "type", ev.Type)
			c.JSON(http.StatusOK, gin.H{"status": "duplicate"})
			return
		}
	}
	if err := s.deps.Payments.Report(ctx, *ev.Result); err != nil {
		if s.deps.StripeEvents != nil {
			if rerr := s.deps.StripeEvents.Release(context.WithoutCancel(ctx), ev.ID); rerr != nil {
				s.deps.Log.Warn("stripe event not forgotten; its retry will be taken for a duplicate", "event", ev.ID, "err", rerr)
			}
		}
		s.fail(c, err)
		return
	}
	s.deps.Log.Info("stripe webhook accepted", "event", ev.ID, "type", ev.Type, "order", ev.Result.OrderID,
		"status", ev.Result.Status)
	c.JSON(http.StatusOK, gin.H{"status": "accepted"})
}
