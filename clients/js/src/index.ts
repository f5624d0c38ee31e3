// @foyer/client: Foyer's shopper protocol (foyer.v1) for browsers, React
// Native and Node. The package's major version is the protocol's.
export { FoyerClient, type FoyerClientOptions } from "./client.js";
export { Emitter, type ClientEvents, type ConnectionState, type MessageEvents } from "./events.js";
export { FoyerError, FoyerClosedError, FoyerProtocolError, type FoyerErrorCode } from "./errors.js";
export { createSession, checkout, newIdempotencyKey, type Session, type CheckoutResult, type FetchLike } from "./http.js";
export { ClockSync, countdown, type Countdown } from "./clock.js";
export { PositionCount } from "./position.js";
export { backoffDelay, backoffCeiling, DEFAULT_BACKOFF, type BackoffOptions } from "./backoff.js";
export { recoveryFor, reconnectDelay, type Recovery } from "./recovery.js";
export { solvePow, solvePowAside, solvePowWith, servePowInWorker, leadingZeroBits, MAX_DIFFICULTY, type Sha256, type PowOptions, type PowProgress, type PowSolved } from "./pow.js";
export { readEvents, type ByteStream, type WebSocketConstructor, type WebSocketLike } from "./wire.js";
export * from "./protocol.gen.js";
