// Clock sync (docs/protocol.md, "Clock sync"): ask the server's time a few
// times and keep the answer with the shortest round trip, the one the
// network's asymmetry can skew least.

/** Requests per connection, and the spacing between them, as the protocol suggests. */
export const CLOCK_SAMPLES = 5;
export const CLOCK_SPACING_MS = 200;

/** Estimates how far the server's clock is ahead of ours. */
export class ClockSync {
  /** Server clock minus ours, in ms; 0 until the first sample. */
  offsetMs = 0;
  private bestTrip = Infinity;
  /** A time answer has set the offset (a guess no longer may). */
  private sampled = false;

  /**
   * Takes a first guess from a server time that came without a round trip
   * (the welcome's server_time), so a countdown is right to about a second
   * before the first answer; it never replaces a sample.
   */
  guess(serverTime: number, receivedAt: number): void {
    if (!this.sampled && Number.isFinite(serverTime) && serverTime > 0) this.offsetMs = serverTime - receivedAt;
  }

  /** Starts a new round (a new connection); the last offset stays until replaced. */
  begin(): void {
    this.bestTrip = Infinity;
  }

  /**
   * Takes one answer: clientTime and serverTime as the server sent them,
   * receivedAt our clock when it arrived. Reports whether it became the offset.
   */
  add(clientTime: number, serverTime: number, receivedAt: number): boolean {
    const trip = receivedAt - clientTime;
    if (!(clientTime > 0) || !Number.isFinite(serverTime) || trip < 0) return false; // not ours
    if (trip >= this.bestTrip) return false;
    this.bestTrip = trip;
    this.sampled = true;
    this.offsetMs = serverTime - (clientTime + receivedAt) / 2;
    return true;
  }

  /** The server's time now, in Unix ms. */
  serverNow(localNow: number = Date.now()): number {
    return localNow + this.offsetMs;
  }
}

/** What is left until a moment, split for display. */
export interface Countdown {
  /** Milliseconds left, never below 0. */
  totalMs: number;
  days: number;
  hours: number;
  minutes: number;
  seconds: number;
  /** True once the moment has passed. */
  done: boolean;
}

/**
 * countdown tells the time left until target (an RFC 3339 string, a Date or
 * Unix ms) on the server's clock, serverNow from a synced ClockSync.
 */
export function countdown(target: string | Date | number, serverNow: number): Countdown {
  const at = typeof target === "number" ? target : new Date(target).getTime();
  if (Number.isNaN(at)) throw new RangeError(`countdown: ${String(target)} is not a time`);
  const totalMs = Math.max(0, at - serverNow);
  const s = Math.ceil(totalMs / 1000);
  return {
    totalMs,
    days: Math.floor(s / 86400),
    hours: Math.floor((s % 86400) / 3600),
    minutes: Math.floor((s % 3600) / 60),
    seconds: s % 60,
    done: totalMs === 0,
  };
}
