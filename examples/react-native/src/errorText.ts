// What the screen tells a shopper for each error code a shopper can meet
// (docs/protocol.md, "Error codes"). The app branches on the code, never on
// the server's message text; `satisfies` makes a misspelt or withdrawn code
// a type error, so this table cannot drift from the protocol unnoticed.
import { FoyerClosedError, FoyerError, type ErrorCode } from "@foyer/client";

const SENTENCES = {
  too_early: "The queue is not open yet. It opens when the countdown ends.",
  sale_ended: "This sale has ended.",
  sold_out: "Sold out: every unit has been sold.",
  sale_not_found: "This sale does not exist.",
  identity_required: "Sign in to the shop to join this sale.",
  identity_invalid: "Your sign-in expired. Sign in to the shop again.",
  not_eligible: "This sale is by invitation only.",
  flagged: "You were taken out of the queue.",
  blocked: "You cannot join this sale from here.",
  session_invalid: "Your session expired. Start again.",
  rate_limited: "Too many tries. Waiting a moment before trying again.",
  busy: "Very busy right now. Trying again in a moment.",
  unavailable: "We could not reach the queue. Trying again in a moment.",
  not_durable: "Your purchase could not be confirmed yet. Try again.",
  too_many_connections: "Foyer is open in too many places. Close one.",
  request_in_progress: "Still working on your purchase…",
  reservation_expired: "Your hold lapsed. Join again to queue for another.",
  token_expired: "Your hold lapsed. Join again to queue for another.",
  token_key_retired: "Your hold lapsed. Join again to queue for another.",
  token_reused: "You already checked out: your order follows.",
  not_enough_stock: "Not enough left for that many. Ask for fewer.",
  quantity_over_limit: "That is more than one shopper may buy.",
  pow_required: "Checking your device…",
  pow_invalid: "Checking your device again…",
  pow_expired: "Checking your device again…",
  pow_replayed: "Checking your device again…",
  internal: "Something went wrong on our side. Try again.",
} satisfies Partial<Record<ErrorCode, string>>;

/**
 * The sentence for a failure: a protocol error by its code (a generic one for
 * a code this app does not word, a newer server's), a closed connection by
 * its close code, anything else (fetch's TypeError) as the network.
 */
export function errorText(err: unknown): string {
  if (err instanceof FoyerClosedError) {
    if (err.closeCode === 4002) return "Please update the app."; // the server no longer speaks this protocol
    if (err.closeCode === 4003) return SENTENCES.blocked;
    if (err.closeCode === 4004) return SENTENCES.sale_not_found;
    return "The connection closed.";
  }
  if (err instanceof FoyerError) return (SENTENCES as Partial<Record<string, string>>)[err.code] ?? "That did not work. Try again.";
  return "No connection. Check your network and try again.";
}

const CHECKOUT_RETRYABLE: readonly ErrorCode[] = ["rate_limited", "busy", "unavailable", "not_durable", "request_in_progress", "internal"];

/**
 * Whether a checkout that failed so may be sent again, with the same
 * idempotency key: the server did nothing, or will answer the retry with what
 * it did. A failure without an answer (the network) is retryable for the same reason.
 */
export function checkoutRetryable(err: unknown): boolean {
  if (!(err instanceof FoyerError)) return true;
  return (CHECKOUT_RETRYABLE as readonly string[]).includes(err.code);
}
