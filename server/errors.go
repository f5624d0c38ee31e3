package server

import (
	"context"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"net/http"
	"syscall"

	"github.com/redis/go-redis/v9"

	"github.com/foyerhq/foyer/checkout"
	"github.com/foyerhq/foyer/internal/branding"
	"github.com/foyerhq/foyer/internal/catalog"
	"github.com/foyerhq/foyer/internal/defence/blocklist"
	"github.com/foyerhq/foyer/internal/defence/pow"
	"github.com/foyerhq/foyer/internal/defence/ratelimit"
	"github.com/foyerhq/foyer/internal/identity"
	"github.com/foyerhq/foyer/internal/operators"
	"github.com/foyerhq/foyer/internal/orders"
	"github.com/foyerhq/foyer/internal/salehistory"
	"github.com/foyerhq/foyer/internal/shopkeys"
	"github.com/foyerhq/foyer/internal/webhooks"
	"github.com/foyerhq/foyer/internal/wire"
	"github.com/foyerhq/foyer/waitingroom"
)

// Errors of the transport itself.
var (
	errBadRequest     = errors.New("bad request")
	errUnauthorized   = errors.New("unauthorized")
	errSessionInvalid = errors.New("session invalid")
	errBadMessage     = errors.New("bad message")
	errNotJoined      = errors.New("not in the queue")
	errBadVersion     = errors.New("unsupported protocol version: this server speaks " + wire.Subprotocol)
	// errStreamUnknown: a message posted to an event stream (the HTTP
	// fallback) that this node does not hold for the session's shopper.
	// Another shopper's stream is told the same, so it tells nothing.
	errStreamUnknown = errors.New("stream unknown")
	// errStreamTaken: an event stream opened with a stream key that an
	// open stream on this node holds.
	errStreamTaken = errors.New("stream key taken")
)

// ErrNotDurable means the node takes no checkouts because Redis, as it runs,
// could lose one it confirmed (its AOF is off, or not fsynced on every
// write): nothing was done. The node's /readyz says why.
var ErrNotDurable = errors.New("not durable: checkouts are paused while our data store could lose them; nothing was done, retry later")

// problem is how one error is told to a client: an HTTP status for the REST
// API, and a code that the JSON body and WebSocket error messages both carry.
type problem struct {
	status int
	code   string
}

// problems is the one table from errors to what clients see, shared by HTTP
// and WebSocket. docs/protocol.md lists the same codes.
var problems = []struct {
	err error
	problem
}{
	{errBadRequest, problem{http.StatusBadRequest, "bad_request"}},
	{errBadMessage, problem{http.StatusBadRequest, "bad_message"}},
	{errUnauthorized, problem{http.StatusUnauthorized, "unauthorized"}},
	{errSessionInvalid, problem{http.StatusUnauthorized, "session_invalid"}},
	{errNotJoined, problem{http.StatusConflict, "not_joined"}},
	{errBadVersion, problem{http.StatusBadRequest, "unsupported_version"}},
	{errStreamUnknown, problem{http.StatusNotFound, "stream_unknown"}},
	{errStreamTaken, problem{http.StatusConflict, "stream_taken"}},
	{orders.ErrBadQuery, problem{http.StatusBadRequest, "bad_request"}}, // a status, limit or cursor of the Orders API
	{waitingroom.ErrInvalidSale, problem{http.StatusUnprocessableEntity, "invalid_sale"}},
	{waitingroom.ErrSaleNotFound, problem{http.StatusNotFound, "sale_not_found"}},
	{waitingroom.ErrSaleEnded, problem{http.StatusConflict, "sale_ended"}},
	{waitingroom.ErrSoldOut, problem{http.StatusConflict, "sold_out"}},
	{waitingroom.ErrBadState, problem{http.StatusConflict, "bad_state"}},
	{waitingroom.ErrSaleOpened, problem{http.StatusConflict, "sale_opened"}},
	{waitingroom.ErrMessageNotFound, problem{http.StatusNotFound, "message_unknown"}},
	{waitingroom.ErrTooEarly, problem{http.StatusConflict, "too_early"}},
	{waitingroom.ErrInvalidShopper, problem{http.StatusBadRequest, "invalid_shopper"}},
	{checkout.ErrTokenInvalid, problem{http.StatusUnauthorized, "token_invalid"}},
	{checkout.ErrTokenExpired, problem{http.StatusUnauthorized, "token_expired"}},
	{checkout.ErrTokenKeyRetired, problem{http.StatusUnauthorized, "token_key_retired"}},
	{checkout.ErrTokenWrongSale, problem{http.StatusForbidden, "token_wrong_sale"}},
	{waitingroom.ErrReservationConfirmed, problem{http.StatusConflict, "token_reused"}},
	{waitingroom.ErrReservationExpired, problem{http.StatusGone, "reservation_expired"}},
	{waitingroom.ErrReservationUnknown, problem{http.StatusNotFound, "reservation_unknown"}},
	{checkout.ErrRequestInProgress, problem{http.StatusConflict, "request_in_progress"}},
	{checkout.ErrKeyReused, problem{http.StatusUnprocessableEntity, "idempotency_key_reused"}},
	{waitingroom.ErrIdempotencyKeyReused, problem{http.StatusUnprocessableEntity, "idempotency_key_reused"}},
	{checkout.ErrBadSignature, problem{http.StatusUnauthorized, "webhook_signature_invalid"}},
	{checkout.ErrWebhookExpired, problem{http.StatusUnauthorized, "webhook_timestamp_expired"}},
	{waitingroom.ErrOverLimit, problem{http.StatusUnprocessableEntity, "quantity_over_limit"}},
	{waitingroom.ErrNotEnoughStock, problem{http.StatusConflict, "not_enough_stock"}},
	{waitingroom.ErrCheckoutNotShop, problem{http.StatusConflict, "checkout_not_shop"}},
	{waitingroom.ErrCheckoutIsShop, problem{http.StatusConflict, "checkout_is_shop"}},
	// An event's checkout (docs/products.md). An unknown product is the
	// catalog's code and status: a SKU that names no product here.
	{waitingroom.ErrProductRequired, problem{http.StatusUnprocessableEntity, "product_required"}},
	{waitingroom.ErrProductUnknown, problem{http.StatusNotFound, "product_unknown"}},
	{waitingroom.ErrProductSoldOut, problem{http.StatusConflict, "product_sold_out"}},
	{waitingroom.ErrOverProductLimit, problem{http.StatusConflict, "over_product_limit"}},
	{checkout.ErrReservationMismatch, problem{http.StatusUnprocessableEntity, "reservation_mismatch"}},
	{ratelimit.ErrLimited, problem{http.StatusTooManyRequests, wire.CodeRateLimited}},
	{ratelimit.ErrTooManyConns, problem{http.StatusTooManyRequests, "too_many_connections"}},
	{errBusy, problem{http.StatusServiceUnavailable, wire.CodeBusy}},
	{errBlocked, problem{http.StatusForbidden, wire.CodeBlocked}},
	{blocklist.ErrBadEntry, problem{http.StatusUnprocessableEntity, "blocklist_entry_invalid"}},
	{blocklist.ErrNotFound, problem{http.StatusNotFound, "blocklist_entry_unknown"}},
	{pow.ErrPowRequired, problem{http.StatusPreconditionRequired, wire.CodePowRequired}},
	{pow.ErrPowInvalid, problem{http.StatusForbidden, wire.CodePowInvalid}},
	{pow.ErrPowExpired, problem{http.StatusForbidden, wire.CodePowExpired}},
	{pow.ErrPowReplayed, problem{http.StatusConflict, wire.CodePowReplayed}},
	{waitingroom.ErrFlagged, problem{http.StatusForbidden, "flagged"}},
	{errRoleTooLow, problem{http.StatusForbidden, "role_forbidden"}},
	{operators.ErrLoginFailed, problem{http.StatusUnauthorized, "login_failed"}},
	{operators.ErrSessionInvalid, problem{http.StatusUnauthorized, "operator_session_invalid"}},
	{operators.ErrBadRequest, problem{http.StatusUnprocessableEntity, "operator_request_invalid"}},
	{operators.ErrNotFound, problem{http.StatusNotFound, "operator_unknown"}},
	{operators.ErrExists, problem{http.StatusConflict, "operator_exists"}},
	{operators.ErrTooMany, problem{http.StatusConflict, "operator_limit_reached"}},
	{shopkeys.ErrInvalid, problem{http.StatusUnauthorized, "shop_key_invalid"}},
	{shopkeys.ErrScope, problem{http.StatusForbidden, "shop_key_scope"}},
	{shopkeys.ErrBadRequest, problem{http.StatusUnprocessableEntity, "shop_key_request_invalid"}},
	{shopkeys.ErrNotFound, problem{http.StatusNotFound, "shop_key_unknown"}},
	{webhooks.ErrBadRequest, problem{http.StatusUnprocessableEntity, "webhook_request_invalid"}},
	{webhooks.ErrBadQuery, problem{http.StatusBadRequest, "bad_request"}}, // a status, limit or cursor of a delivery log
	{webhooks.ErrNotFound, problem{http.StatusNotFound, "webhook_unknown"}},
	{webhooks.ErrDeliveryNotFound, problem{http.StatusNotFound, "webhook_delivery_unknown"}},
	{webhooks.ErrTooMany, problem{http.StatusConflict, "webhook_limit_reached"}},
	{catalog.ErrInvalid, problem{http.StatusUnprocessableEntity, "catalog_import_invalid"}},
	{catalog.ErrNotFound, problem{http.StatusNotFound, "product_unknown"}},
	{catalog.ErrBadQuery, problem{http.StatusBadRequest, "bad_request"}}, // a limit or cursor of the product list
	{identity.ErrInvalid, problem{http.StatusUnauthorized, "identity_invalid"}},
	{waitingroom.ErrIdentityRequired, problem{http.StatusForbidden, "identity_required"}},
	{waitingroom.ErrNotEligible, problem{http.StatusForbidden, "not_eligible"}},
	{waitingroom.ErrInvitationsInvalid, problem{http.StatusUnprocessableEntity, "invitations_invalid"}},
	{branding.ErrInvalid, problem{http.StatusUnprocessableEntity, "branding_invalid"}},
	{branding.ErrNoSale, problem{http.StatusNotFound, "sale_not_found"}},
	{errUnavailable, problem{http.StatusServiceUnavailable, wire.CodeUnavailable}},
	{ErrNotDurable, problem{http.StatusServiceUnavailable, "not_durable"}},
	{waitingroom.ErrNotReplicated, problem{http.StatusServiceUnavailable, "not_durable"}},
	// A request body past its cap, or too slow to come (bodylimit.go).
	{errTooLarge, problem{http.StatusRequestEntityTooLarge, "too_large"}},
	{errTooSlow, problem{http.StatusRequestTimeout, "too_slow"}},
	// A sale's series and reports (series.go, report.go).
	{salehistory.ErrBadSpan, problem{http.StatusBadRequest, "series_span_invalid"}},
	{salehistory.ErrSpanTooWide, problem{http.StatusBadRequest, "series_span_too_wide"}},
	{salehistory.ErrUnpublished, problem{http.StatusNotFound, "fairness_unpublished"}},
}

var internalProblem = problem{http.StatusInternalServerError, "internal"}

// problemFor finds what to tell a client about err.
func problemFor(err error) problem {
	err = unavailableIf(err)
	for _, p := range problems {
		if errors.Is(err, p.err) {
			return p.problem
		}
	}
	return internalProblem
}

// errorBody is the JSON body of every error answer over HTTP.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// describe is the message shown with a code; internal errors do not leak.
func describe(p problem, err error) string {
	if p == internalProblem {
		return "internal error"
	}
	return unavailableIf(err).Error() // never the address of a server that did not answer
}

// errUnavailable is the shared state (Redis, or Postgres) out of reach: the
// request did nothing, and the same request may be sent again once it is
// back. A client is told unavailable (503) with unavailableRetryAfter.
var errUnavailable = errors.New("unavailable")

// unavailableRetryAfter is the retry_after of unavailable, in seconds: a
// blip costs a shopper little, and a crowd does not hammer a Redis that is
// coming back.
const unavailableRetryAfter = 2

// unavailableError is a call that failed because the shared state could not
// be reached; the cause stays inside for errors.As and errors.Is.
type unavailableError struct{ cause error }

func (e unavailableError) Error() string {
	return "unavailable: our servers cannot reach the sale's data right now; nothing was done, retry shortly"
}
func (e unavailableError) Is(target error) bool { return target == errUnavailable }
func (e unavailableError) Unwrap() error        { return e.cause }

// unavailableIf sorts the failures that mean "could not reach Redis or
// Postgres, or it could not answer now" (the network, a timeout, a full
// connection pool, a server still loading its data or without its primary)
// out from the rest, in this one place: those become errUnavailable, which
// clients retry. Every other error, such as a script that fails or a key of
// the wrong type, is left as it is, to be told as internal and logged: a bug
// must not pass for an outage.
func unavailableIf(err error) error {
	if err == nil || errors.Is(err, errUnavailable) || errors.Is(err, context.Canceled) {
		return err // a client that went away is not an outage
	}
	var netErr net.Error
	switch {
	case errors.As(err, &netErr), errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, redis.ErrPoolTimeout), errors.Is(err, driver.ErrBadConn),
		redis.IsLoadingError(err), redis.IsMasterDownError(err), redis.IsClusterDownError(err),
		redis.IsTryAgainError(err), redis.IsMaxClientsError(err):
		return unavailableError{cause: err}
	}
	return err
}
