// Typed errors: every failure the client reports carries the protocol's code
// (docs/protocol.md, "Error codes"), so an app branches on code, never on text.
import { ERROR_CODES, type ErrorCode } from "./protocol.gen.js";

/** A code the protocol documents, or one added since (a client treats it as a failed request). */
export type FoyerErrorCode = ErrorCode | (string & {});

/** An error the server answered, over HTTP or as an `error` message. */
export class FoyerError extends Error {
  override name = "FoyerError";
  /** The protocol's code (`sold_out`, `rate_limited`, ...). */
  readonly code: FoyerErrorCode;
  /** The HTTP status, when the error came over HTTP. */
  readonly status?: number;
  /** Seconds to wait before retrying, when the server said. */
  readonly retryAfter?: number;

  constructor(code: FoyerErrorCode, message: string, opts: { status?: number; retryAfter?: number } = {}) {
    super(message || code);
    this.code = code;
    this.status = opts.status;
    this.retryAfter = opts.retryAfter;
  }

  /** Whether the code is one docs/asyncapi.yaml lists. */
  get known(): boolean {
    return (ERROR_CODES as readonly string[]).includes(this.code);
  }
}

/** The connection ended for good (a close code that retrying will not fix). */
export class FoyerClosedError extends Error {
  override name = "FoyerClosedError";
  constructor(
    readonly closeCode: number,
    readonly reason: string,
  ) {
    super(`connection closed for good: ${closeCode}${reason ? ` ${reason}` : ""}`);
  }
}

/** A frame from the server that is not a protocol message; the client ignores it. */
export class FoyerProtocolError extends Error {
  override name = "FoyerProtocolError";
  constructor(
    message: string,
    readonly frame: string,
  ) {
    super(message);
  }
}

/** errorFromResponse reads an HTTP error answer, `{"error": {"code", "message"}}`. */
export async function errorFromResponse(res: Response, doing: string): Promise<FoyerError> {
  let code = "internal";
  let message = `${doing}: HTTP ${res.status}`;
  try {
    const body = (await res.json()) as { error?: { code?: unknown; message?: unknown } };
    if (body && typeof body.error?.code === "string") code = body.error.code;
    if (body && typeof body.error?.message === "string") message = `${doing}: ${body.error.message}`;
  } catch {
    // Not JSON (a proxy's page): the status is all there is.
  }
  const retry = Number.parseInt(res.headers.get("Retry-After") ?? "", 10);
  return new FoyerError(code, message, { status: res.status, retryAfter: retry > 0 ? retry : undefined });
}
