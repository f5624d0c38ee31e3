import type { PositionMessage } from "./protocol.gen.js";

/**
 * PositionCount is the position a page shows, from the `position` messages
 * it is sent: while the queue moves steadily a message carries a `fall`,
 * and the page counts the position down each second by it until the next
 * (protocol.md, "Counting a position down"). What it shows never rises,
 * but once: a message whose position is above the last message's is a move
 * to the back of the queue, and is shown as it is.
 *
 * Times are the client's own monotonic milliseconds (performance.now(), or
 * Date.now()): a count is measured from when its message came.
 */
export class PositionCount {
  private position = 0; // the last message's
  private shown = 0;
  private fall: PositionMessage["fall"];
  private at = 0;

  /** take reads a `position` message come at nowMs; it returns what to show. */
  take(m: PositionMessage, nowMs: number): number {
    if (this.shown === 0 || m.position > this.position) this.shown = m.position;
    else this.shown = Math.min(this.shows(nowMs), m.position);
    this.position = m.position;
    this.fall = m.fall;
    this.at = nowMs;
    return this.shown;
  }

  /** shows is the position to show at nowMs: the count so far. */
  shows(nowMs: number): number {
    const f = this.fall;
    if (f && this.shown > 0) {
      const seconds = Math.max(0, (nowMs - this.at) / 1000 - 1);
      this.shown = Math.min(this.shown, Math.max(f.floor, this.position - Math.floor(f.per_second * seconds)));
    }
    return this.shown;
  }

  /**
   * stop holds the count where it is: at a `state` other than open, a
   * `stock` with `all_held`, until the next `position` message.
   */
  stop(nowMs: number): void {
    this.shows(nowMs);
    this.fall = undefined;
  }

  /** reset forgets the place: the shopper left the queue, or was admitted. */
  reset(): void {
    this.position = this.shown = this.at = 0;
    this.fall = undefined;
  }
}
