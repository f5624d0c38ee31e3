package server

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/foyerhq/foyer/checkout"
)

// maxWebhookBody bounds a payment webhook's body.
const maxWebhookBody = 64 << 10

// paymentWebhook takes a payment provider's signed result and hands it to
// the order workers; it never touches Postgres itself, so whether the result
// names its order's own sale and reservation is checked by the worker that
// applies it.
func (s *Server) paymentWebhook(c *gin.Context) {
	body, err := io.ReadAll(io.LimitReader(c.Request.Body, maxWebhookBody))
	if err != nil {
		s.fail(c, fmt.Errorf("%w: %v", errBadRequest, err))
		return
	}
	result, err := checkout.VerifyWebhook([]byte(s.cfg.WebhookSecret), body, c.GetHeader(checkout.SignatureHeader), time.Now())
	if err != nil {
		if !errors.Is(err, checkout.ErrBadSignature) && !errors.Is(err, checkout.ErrWebhookExpired) {
			err = fmt.Errorf("%w: %v", errBadRequest, err)
		}
		s.fail(c, err)
		return
	}
	if err := s.deps.Payments.Report(c.Request.Context(), result); err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusAccepted, gin.H{"status": "accepted"})
}
