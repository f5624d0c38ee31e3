// Package wire owns the shopper protocol's words on the wire (docs/protocol.md,
// docs/asyncapi.yaml): the subprotocol, the message types each side sends,
// the close codes, the error codes a client branches on, and the messages
// both sides write or read. The server and the Go client import this one
// copy, so they cannot drift apart; the documents are checked against it by
// the server's tests. It imports nothing of the project.
package wire

// Subprotocol is the WebSocket subprotocol of version Version of the shopper
// protocol.
const Subprotocol = "foyer.v1"

// Version is the protocol version a welcome announces.
const Version = 1

// Message types from server to client.
const (
	MsgWelcome  = "welcome"
	MsgTime     = "time"
	MsgPrequeue = "prequeue"
	MsgPosition = "position"
	MsgStock    = "stock"
	MsgState    = "state"
	MsgAdmitted = "admitted"
	MsgExpired  = "expired"
	MsgOrder    = "order"
	MsgSoldOut  = "sold_out"
	MsgError    = "error"
	MsgPong     = "pong"
	MsgNotice   = "notice"
	MsgLeft     = "left"
)

// ServerMessageTypes lists every message type the server sends, for the
// tests that keep docs/asyncapi.yaml and docs/protocol.md complete.
var ServerMessageTypes = []string{MsgWelcome, MsgTime, MsgPrequeue, MsgPosition, MsgStock, MsgState,
	MsgAdmitted, MsgExpired, MsgOrder, MsgSoldOut, MsgError, MsgPong, MsgNotice, MsgLeft}

// The checkout modes an admitted message names, saying what its
// checkout_url is: Foyer's checkout, to POST the token to, or the shop's
// page, carrying the token, to open in the browser (a cross-origin POST
// to it would fail, and the shopper must reach the shop's own page).
const (
	CheckoutFoyer = "foyer"
	CheckoutShop  = "shop"
)

// The statuses of an order, as the order message tells them and the order
// workers write them: confirmed (told on reconnect before the order row is
// written), pending_payment, then paid or cancelled (payment failed or
// timed out; its unit went back to the sale); refunded, told of a cancelled
// order whose late payment was given back (the order stays cancelled).
const (
	OrderConfirmed      = "confirmed"
	OrderPendingPayment = "pending_payment"
	OrderPaid           = "paid"
	OrderCancelled      = "cancelled"
	OrderRefunded       = "refunded"
)

// PaymentStripe is the provider an order message's payment names when the
// shopper pays on Foyer's page with Stripe's Payment Element.
const PaymentStripe = "stripe"

// Message types from client to server.
const (
	CmdJoin   = "join"
	CmdLeave  = "leave"
	CmdResume = "resume"
	CmdTime   = "time"
	CmdPing   = "ping"
	// CmdCheckout confirms the reservation of an admitted tab over its own
	// socket, as POST /v1/sales/{id}/checkout does over HTTP.
	CmdCheckout = "checkout"
)

// ClientMessageTypes lists every message type the server accepts.
var ClientMessageTypes = []string{CmdJoin, CmdLeave, CmdResume, CmdTime, CmdPing, CmdCheckout}

// Close codes of the shopper protocol, beyond the standard ones. They are
// untyped so that they are a websocket.StatusCode wherever one is wanted.
const (
	CloseSessionInvalid     = 4001 // the session token is missing or invalid: get a new one
	CloseUnsupportedVersion = 4002 // the client offered only protocol versions this server does not speak
	CloseBlocked            = 4003 // the client's IP, network or shopper was blocked by the operators: give up
	CloseSaleNotFound       = 4004 // no such sale: give up
	// CloseTooSlow is reserved for a client that did not keep up with its
	// messages (reconnect); the server drops such a client without a close
	// frame, which its full socket buffer could not take: it sees 1006.
	CloseTooSlow = 4008
	CloseIdle    = 4009 // nothing heard from the client for the idle timeout: reconnect
)

// Error codes a client branches on. The server's one error table
// (server/errors.go) holds every code; these are the ones the Go client
// needs too.
const (
	CodeBlocked = "blocked" // the operators blocked this client: give up

	// Passing refusals: the error carries retry_after, in seconds.
	CodeRateLimited = "rate_limited"
	CodeBusy        = "busy"
	CodeUnavailable = "unavailable"

	// CodePowPrefix begins every proof-of-work code: an error carrying one
	// also carries a fresh challenge to join with.
	CodePowPrefix   = "pow_"
	CodePowRequired = CodePowPrefix + "required"
	CodePowInvalid  = CodePowPrefix + "invalid"
	CodePowExpired  = CodePowPrefix + "expired"
	CodePowReplayed = CodePowPrefix + "replayed"
)
