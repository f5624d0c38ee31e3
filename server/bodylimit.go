package server

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// Every request body is capped, and read within a bound of time, before a
// handler parses it: a body costs the node memory and a goroutine for as
// long as it is read, and the cheapest attack on a gateway is a big body, or
// a slow one, from many connections. The caps are far above any request
// Foyer takes (a checkout is a token and a number; a sale plan is a few
// hundred bytes).
const (
	// maxShopperBody caps the bodies of the shopper API (sessions, checkout).
	maxShopperBody = 16 << 10
	// maxOperatorBody caps the bodies of the admin API and of Stripe's
	// webhook (Foyer's own takes a batch: maxWebhookBody).
	maxOperatorBody = 64 << 10
	// defaultBodyTimeout is how long a request body may take to arrive
	// when Config.BodyTimeout is zero.
	defaultBodyTimeout = 10 * time.Second
)

// Errors of a body refused before its end.
var (
	errTooLarge = errors.New("request body too large")
	errTooSlow  = errors.New("request body too slow")
)

// bodyCap is the cap on the body of a request to path.
func bodyCap(path string) int64 {
	if strings.HasPrefix(path, "/v1/admin/sales/") && strings.HasSuffix(path, "/invitees") {
		return maxInviteesBody // a customer list (eligibility.go)
	}
	if path == "/v1/admin/products" {
		return maxCatalogBody // an import of up to 10,000 products (catalog.go)
	}
	if path == "/v1/admin/login" {
		return maxLoginBody // a username and a password (accounts.go)
	}
	if path == "/v1/payments/webhook" {
		return maxWebhookBody // a batch of payment results (webhook.go)
	}
	if strings.HasPrefix(path, "/v1/admin/") || strings.HasPrefix(path, "/v1/payments/") {
		return maxOperatorBody
	}
	return maxShopperBody
}

// limitBodies caps the request's body and bounds the time it may take to
// arrive. A body declared bigger than the cap is refused at once, unread;
// one that turns out bigger (chunked) is refused as soon as the cap is
// passed. Either way the connection is closed after the answer, so the rest
// is never read. Requests without a body (WebSocket upgrades among them)
// keep no read deadline: a WebSocket's connection outlives its request.
func (s *Server) limitBodies(c *gin.Context) {
	r := c.Request
	max := bodyCap(r.URL.Path)
	if r.ContentLength > max {
		s.fail(c, fmt.Errorf("%w: %d bytes declared, at most %d taken here", errTooLarge, r.ContentLength, max))
		c.Abort()
		return
	}
	if r.ContentLength == 0 || r.Body == nil || r.Body == http.NoBody {
		c.Next()
		return
	}
	rc := http.NewResponseController(c.Writer)
	timeout := s.cfg.BodyTimeout
	if timeout <= 0 {
		timeout = defaultBodyTimeout
	}
	// Without support for deadlines (a test's recorder) the cap still holds.
	armed := rc.SetReadDeadline(time.Now().Add(timeout)) == nil
	body := r.Body
	r.Body = &cappedBody{body: body, left: max, max: max, rc: rc, armed: armed}
	c.Next()
	// net/http looks at the body it made to decide how much of an unread
	// rest to drain before it answers; the deadline bounds that drain.
	r.Body = body
}

// cappedBody is a request body that fails once more than max bytes come,
// or once the read deadline passes, and remembers which, so that the
// answer says so whatever the handler made of the error (see bodyRefusal).
// Once the body has been read to its end the deadline is lifted: net/http
// then reads the connection in the background to notice the client leave,
// and a deadline passing there would cancel a request still being served.
type cappedBody struct {
	body      io.ReadCloser
	left, max int64
	rc        *http.ResponseController
	armed     bool
	tooLarge  bool
	tooSlow   bool
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.tooLarge {
		return 0, errTooLarge
	}
	// One byte more than is left tells a body at the cap from one past it.
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.body.Read(p)
	if int64(n) > b.left {
		b.tooLarge = true
		return int(b.left), fmt.Errorf("%w: more than %d bytes", errTooLarge, b.max)
	}
	b.left -= int64(n)
	if b.left == 0 && err == nil && n > 0 {
		// A reader that asked for exactly what was left (io.LimitReader)
		// would never learn of more: look one byte ahead.
		var one [1]byte
		m, perr := b.body.Read(one[:])
		if m > 0 {
			b.tooLarge = true
			return n, fmt.Errorf("%w: more than %d bytes", errTooLarge, b.max)
		}
		err = perr
	}
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		b.tooSlow = true
	case err == io.EOF && b.armed:
		b.armed = false
		b.rc.SetReadDeadline(time.Time{})
	}
	return n, err
}

func (b *cappedBody) Close() error { return b.body.Close() }

// bodyRefusal is what to answer instead of err when the request's body
// was cut off: handlers wrap a failed read as a bad request, and the
// client must learn that its body was too big or too slow instead. The
// connection is then closed, its unread rest never read.
func bodyRefusal(c *gin.Context, err error) error {
	b, ok := c.Request.Body.(*cappedBody)
	switch {
	case errors.Is(err, errTooLarge):
	case ok && b.tooLarge:
		err = fmt.Errorf("%w: more than %d bytes", errTooLarge, b.max)
	case ok && b.tooSlow:
		err = fmt.Errorf("%w: not all of it came within the time allowed", errTooSlow)
	default:
		return err
	}
	c.Header("Connection", "close")
	return err
}
