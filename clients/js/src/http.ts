// The HTTP half of the protocol: sessions (docs/protocol.md, "1. A session")
// and checkout ("3. Checkout").
import { errorFromResponse, FoyerError } from "./errors.js";

export type FetchLike = typeof fetch;

function defaultFetch(): FetchLike {
  if (typeof globalThis.fetch !== "function") throw new Error("no fetch here; pass one in the options");
  return globalThis.fetch.bind(globalThis);
}

/** A shopper's session: the token proves the shopper id for 24 hours, and resumes its place. */
export interface Session {
  shopper_id: string;
  token: string;
  expires_at: string;
  /** True for a session made from the shop's identity token. */
  customer?: boolean;
}

/**
 * createSession makes a session: anonymous, or the shop's signed-in customer
 * when identity (the shop's identity token) is given.
 */
export async function createSession(baseUrl: string, opts: { identity?: string; fetch?: FetchLike } = {}): Promise<Session> {
  const doFetch = opts.fetch ?? defaultFetch();
  const res = await doFetch(`${baseUrl.replace(/\/+$/, "")}/v1/sessions`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: opts.identity ? JSON.stringify({ identity: opts.identity }) : "{}",
  });
  if (res.status !== 201) throw await errorFromResponse(res, "make a session");
  const s = (await res.json()) as Session;
  if (typeof s?.token !== "string" || typeof s?.shopper_id !== "string") throw new Error("make a session: the answer has no token");
  return s;
}

/** The answer to a checkout. */
export interface CheckoutResult {
  reservation_id: string;
  status: string;
  quantity: number;
  /** The SKU an event's checkout bought; absent in a single-product sale. */
  product?: string;
  /** True when the server answered a retry with the first answer (Idempotent-Replayed); always false over the socket, whose answer to a checkout sent again is the order as it stands (status). */
  replayed: boolean;
}

/** A fresh random Idempotency-Key. */
export function newIdempotencyKey(): string {
  const c = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto;
  if (c?.randomUUID) return c.randomUUID();
  return `k-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
}

/**
 * checkout posts a reservation token to the admitted message's checkout_url
 * with an Idempotency-Key: a retry with the same key gets the first answer
 * again and changes nothing, so pass the same key when retrying. An event
 * (a sale whose `products` are listed) needs `product`, the SKU chosen.
 */
export async function checkout(
  checkoutUrl: string,
  token: string,
  opts: { quantity?: number; product?: string; idempotencyKey?: string; fetch?: FetchLike } = {},
): Promise<CheckoutResult> {
  const doFetch = opts.fetch ?? defaultFetch();
  const body: { token: string; quantity?: number; product?: string } = { token };
  if (opts.quantity !== undefined) body.quantity = opts.quantity;
  if (opts.product !== undefined) body.product = opts.product;
  const res = await doFetch(checkoutUrl, {
    method: "POST",
    headers: { "Content-Type": "application/json", "Idempotency-Key": opts.idempotencyKey ?? newIdempotencyKey() },
    body: JSON.stringify(body),
  });
  if (res.status !== 200) throw await errorFromResponse(res, "check out");
  const r = (await res.json()) as Omit<CheckoutResult, "replayed">;
  return { ...r, replayed: res.headers.get("Idempotent-Replayed") === "true" };
}

/** checkoutUrl's path at baseUrl, or "" when that is where it points already. */
function atBaseUrl(baseUrl: string, checkoutUrl: string): string {
  const m = /^[a-z][a-z0-9+.-]*:\/\/[^/]+(\/.*)?$/i.exec(checkoutUrl);
  const base = baseUrl.replace(/\/+$/, "");
  if (!m || checkoutUrl.startsWith(base + "/")) return "";
  return base + (m[1] ?? "/");
}

/**
 * checkoutFrom checks out as checkout does, from a client that reaches
 * Foyer at baseUrl. checkout_url is at the deployment's public URL; where
 * that origin cannot be reached from here (a browser's policy, a network
 * that only reaches baseUrl), the same path at baseUrl serves the same
 * checkout, and the same Idempotency-Key makes the second try safe.
 */
export async function checkoutFrom(
  baseUrl: string,
  checkoutUrl: string,
  token: string,
  opts: { quantity?: number; product?: string; idempotencyKey?: string; fetch?: FetchLike } = {},
): Promise<CheckoutResult> {
  const o = { ...opts, idempotencyKey: opts.idempotencyKey ?? newIdempotencyKey() };
  try {
    return await checkout(checkoutUrl, token, o);
  } catch (err) {
    const local = atBaseUrl(baseUrl, checkoutUrl);
    if (err instanceof FoyerError || !local) throw err; // answered, or nowhere else to try
    return checkout(local, token, o);
  }
}
