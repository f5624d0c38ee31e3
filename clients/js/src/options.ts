// What a FoyerClient is given: the sale, the platform's parts where the
// defaults are missing, and the knobs of its connection, each with its default.
import type { BackoffOptions } from "./backoff.js";
import type { FetchLike, Session } from "./http.js";
import type { Sha256 } from "./pow.js";
import type { WebSocketConstructor } from "./wire.js";

export interface FoyerClientOptions {
  /** The Foyer deployment, e.g. "https://foyer.example.com". */
  baseUrl: string;
  /** The sale to wait for. */
  saleId: string;
  /** A session kept from before (its token resumes the shopper's place). Without it, one is made. */
  session?: Session;
  /** The shop's identity token for its signed-in customer: the session made is the customer's. */
  identity?: string;
  /** The WebSocket constructor. Defaults to globalThis.WebSocket (Node 20: pass the `ws` package's). */
  WebSocket?: WebSocketConstructor;
  /** fetch, for sessions, checkout and the HTTP fallback. Defaults to globalThis.fetch. */
  fetch?: FetchLike;
  /** "auto" (default): WebSocket, falling back to HTTP when it cannot open; or one of them only. */
  transport?: "auto" | "websocket" | "events";
  /** Reconnect backoff. Defaults to 0.5 s doubling to 15 s, full jitter. */
  backoff?: BackoffOptions;
  /** How often to send ping. Defaults to 20,000 ms, as the protocol asks. */
  keepaliveMs?: number;
  /** Silence after which the connection counts as dead and is replaced. Defaults to 60,000 ms. */
  deadAfterMs?: number;
  /** How long a WebSocket may take to open before the fallback is tried. Defaults to 8,000 ms. */
  openTimeoutMs?: number;
  /** How long checkout(admitted, { over: "socket" }) waits for its answer before failing with "network". Defaults to 15,000 ms. */
  checkoutTimeoutMs?: number;
  /** SHA-256 for proof of work where WebCrypto is missing (React Native). */
  sha256?: Sha256;
  /**
   * A script of the page's own origin that runs the proof of work in a Web
   * Worker (dist/esm/pow-worker.js, or a bundle of it): for pages whose
   * Content-Security-Policy refuses blob: workers. Without it, a Blob worker.
   */
  powWorkerUrl?: string;
  /**
   * After 4001 the shopper's place went with its old session: true (default)
   * joins again on the new one; false leaves that to the app (a page that
   * tells the shopper the place was lost and offers Join again).
   */
  rejoinAfterNewSession?: boolean;
}
