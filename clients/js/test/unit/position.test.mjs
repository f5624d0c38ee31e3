import assert from "node:assert/strict";
import { test } from "node:test";

import { PositionCount } from "../../dist/esm/index.js";

const pos = (position, fall) => ({ type: "position", position, ahead: position - 1, waiting: 20000, fall });

test("a position with a fall is counted down from a second after it came", () => {
  const c = new PositionCount();
  assert.equal(c.take(pos(9000, { per_second: 950, floor: 4250 }), 10_000), 9000);
  assert.equal(c.shows(10_900), 9000, "the first second shows the position as told");
  assert.equal(c.shows(11_500), 9000 - 475);
  assert.equal(c.shows(13_000), 9000 - 1900);
  assert.equal(c.shows(60_000), 4250, "the count stops at its floor");
});

test("what is shown never rises, but for a move to the back", () => {
  const c = new PositionCount();
  c.take(pos(9000, { per_second: 1000, floor: 4000 }), 0);
  assert.equal(c.shows(3000), 7000);
  // The queue slowed: the truth, 7,200, is above the count; the count holds.
  assert.equal(c.take(pos(7200), 3000), 7000);
  assert.equal(c.shows(9000), 7000, "no fall told: the count stands");
  assert.equal(c.take(pos(6500), 9000), 6500);
  // An operator's rule sent the shopper to the back: shown as it is.
  assert.equal(c.take(pos(15000), 9500), 15000);
});

test("a stopped count holds until the next message", () => {
  const c = new PositionCount();
  c.take(pos(5000, { per_second: 100, floor: 4500 }), 0);
  c.stop(3000);
  assert.equal(c.shows(3000), 4800);
  assert.equal(c.shows(8000), 4800);
  c.reset();
  assert.equal(c.take(pos(300), 9000), 300, "a new place after leaving is shown as it is");
});
