import assert from "node:assert/strict";
import { test } from "node:test";

import { ClockSync, countdown } from "../../dist/esm/index.js";

test("clock sync keeps the offset of the shortest round trip", () => {
  const c = new ClockSync();
  assert.equal(c.add(1000, 6100, 1200), true); // trip 200, offset 6100 - 1100 = 5000
  assert.equal(c.offsetMs, 5000);
  assert.equal(c.add(2000, 7040, 2080), true); // trip 80: better, offset 5000
  assert.equal(c.add(3000, 9000, 3300), false); // trip 300: worse, ignored
  assert.equal(c.offsetMs, 5000);
  assert.equal(c.serverNow(10_000), 15_000);
});

test("answers that cannot be ours are ignored", () => {
  const c = new ClockSync();
  assert.equal(c.add(0, 5000, 100), false);
  assert.equal(c.add(2000, 5000, 1000), false); // received before it was sent
  assert.equal(c.add(1000, Number.NaN, 1100), false);
  assert.equal(c.offsetMs, 0);
});

test("a new round replaces the offset with its own best sample", () => {
  const c = new ClockSync();
  c.add(1000, 2000, 1010);
  c.begin();
  assert.equal(c.add(5000, 5000, 5400), true, "a slow first sample of a new round still counts");
  assert.equal(c.offsetMs, -200);
});

test("countdown splits the time left and stops at zero", () => {
  const now = Date.parse("2026-11-27T08:00:00Z");
  assert.deepEqual(countdown("2026-11-28T09:01:02Z", now), {
    totalMs: 90_062_000, days: 1, hours: 1, minutes: 1, seconds: 2, done: false,
  });
  assert.equal(countdown(now - 5, now).done, true);
  assert.equal(countdown(now - 5, now).totalMs, 0);
  assert.throws(() => countdown("not a time", now), RangeError);
});
