// What a client does once its connection ended, per close code
// (docs/protocol.md, "Close codes"; internal/shopperclient/reconnect.go is
// the reference).
import { backoffDelay, type BackoffOptions } from "./backoff.js";
import { CloseCode } from "./protocol.gen.js";

/**
 * - `reconnect_now`: the node is draining (1001); another takes the shopper with its place.
 * - `renew_session`: the session is invalid (4001); get a new one, then reconnect.
 * - `reconnect_later`: a passing failure (1011, 1013, 4008, 4009, the network, an unknown code).
 * - `stop`: nothing more to do (1000), or nothing retrying would fix (1009, 4002, 4003, 4004).
 */
export type Recovery = "reconnect_now" | "renew_session" | "reconnect_later" | "stop";

/** The recovery for a close code; -1 or 1006 (no close frame) is the network. */
export function recoveryFor(code: number): Recovery {
  switch (code) {
    case CloseCode.GoingAway:
      return "reconnect_now";
    case CloseCode.SessionInvalid:
      return "renew_session";
    case CloseCode.NormalClosure:
    case CloseCode.MessageTooBig:
    case CloseCode.UnsupportedVersion:
    case CloseCode.Blocked:
    case CloseCode.SaleNotFound:
      return "stop";
    default:
      return "reconnect_later";
  }
}

/**
 * The wait before reconnecting, in ms, given how many connections in a row
 * ended without a welcome (failures ≥ 1, this one included). "At once" holds
 * only for the first: a node that drains again and again must not become a
 * busy loop, so repeats back off like any failure. retryAfterMs, from an
 * error's retry_after, is a floor, with jitter on top of it.
 */
export function reconnectDelay(recovery: Recovery, failures: number, backoff: BackoffOptions = {}, retryAfterMs = 0): number {
  let wait: number;
  switch (recovery) {
    case "reconnect_now":
    case "renew_session":
      wait = failures <= 1 ? 0 : backoffDelay(failures - 2, backoff);
      break;
    case "reconnect_later":
      wait = backoffDelay(failures - 1, backoff);
      break;
    default:
      return 0;
  }
  if (retryAfterMs > 0) wait = retryAfterMs + backoffDelay(0, backoff);
  return wait;
}
