package server

import (
	"fmt"
	"io"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/foyerhq/foyer/checkout"
)

// maxWebhookBody bounds a payment webhook's body.
const maxWebhookBody = 64 << 10

// paymentWebhook takes a payment provider's signed result and hands it to
// the order workers; it never touches Postgres itself.
func (s *Server) paymentWebhook(c *gin.Context) {
	body, err := io.ReadAll(io.LimitReader(c.Request.Body, maxWebhookBody))
	if err != nil {
		s.fail(c, fmt.Errorf("%w: %v", errBadRequest, err))
		return
	}
	result, err := checkout.VerifyWebhook([]byte(s.cfg.WebhookSecret), body, c.GetHeader(checkout.SignatureHeader))
	if err != nil {
		if err != checkout.ErrBadSignature {
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
