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

// maxWebhookBody caps the body of Foyer's payment webhook: room for a batch
// of checkout.MaxWebhookResults results (256 KiB). bodyCap applies it.
const maxWebhookBody = checkout.MaxWebhookResults * checkout.MaxWebhookResultBytes

// paymentWebhook takes a payment provider's signed result, or batch of
// results, and hands it to the order workers; it never touches Postgres
// itself, so whether a result names its order's own sale and reservation is
// checked by the worker that applies it. A batch with one bad result is
// refused whole, and nothing of it is handed on.
func (s *Server) paymentWebhook(c *gin.Context) {
	body, err := io.ReadAll(c.Request.Body) // capped by limitBodies
	if err != nil {
		s.fail(c, fmt.Errorf("%w: %v", errBadRequest, err))
		return
	}
	results, err := checkout.VerifyWebhookResults([]byte(s.cfg.WebhookSecret), body, c.GetHeader(checkout.SignatureHeader), time.Now())
	if err != nil {
		if !errors.Is(err, checkout.ErrBadSignature) && !errors.Is(err, checkout.ErrWebhookExpired) {
			err = fmt.Errorf("%w: %v", errBadRequest, err)
		}
		s.fail(c, err)
		return
	}
	// A result alone joins the others of the same few milliseconds
	// (PaymentReports.Run); a batch is one message already.
	if len(results) == 1 {
		err = s.deps.Payments.Report(c.Request.Context(), results[0])
	} else {
		err = s.deps.Payments.ReportBatch(c.Request.Context(), results)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusAccepted, gin.H{"status": "accepted"})
}
