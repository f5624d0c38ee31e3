// Reconnect backoff (docs/protocol.md, "Close codes"): exponential, 0.5 s
// doubling to 15 s, with full jitter. Full jitter spreads the thousands of
// shoppers a failed node drops over the whole window instead of sending them
// back in waves.

/** How reconnects back off. */
export interface BackoffOptions {
  /** The ceiling of the first wait, in ms. Defaults to 500. */
  minMs?: number;
  /** The cap of the ceiling, in ms. Defaults to 15,000. */
  maxMs?: number;
  /** Returns a number in [0, 1); tests make it deterministic. Defaults to Math.random. */
  random?: () => number;
}

export const DEFAULT_BACKOFF = { minMs: 500, maxMs: 15_000 } as const;

/** The ceiling of retry n (from 0): min(max, min·2ⁿ). */
export function backoffCeiling(n: number, opts: BackoffOptions = {}): number {
  const min = opts.minMs && opts.minMs > 0 ? opts.minMs : DEFAULT_BACKOFF.minMs;
  const max = opts.maxMs && opts.maxMs > 0 ? opts.maxMs : DEFAULT_BACKOFF.maxMs;
  let ceiling = min;
  for (let i = 0; i < Math.max(n, 0) && ceiling < max; i++) ceiling *= 2;
  return Math.min(ceiling, max);
}

/** The wait before retry n (from 0), drawn uniformly from [0, ceiling). */
export function backoffDelay(n: number, opts: BackoffOptions = {}): number {
  const random = opts.random ?? Math.random;
  return Math.floor(random() * backoffCeiling(n, opts));
}
