import assert from "node:assert/strict";
import { test } from "node:test";

import { backoffCeiling, backoffDelay, reconnectDelay, recoveryFor } from "../../dist/esm/index.js";

test("the backoff ceiling doubles from 0.5 s and stops at 15 s", () => {
  const ceilings = Array.from({ length: 8 }, (_, n) => backoffCeiling(n));
  assert.deepEqual(ceilings, [500, 1000, 2000, 4000, 8000, 15000, 15000, 15000]);
});

test("full jitter draws each wait from [0, ceiling)", () => {
  for (let n = 0; n < 10; n++) {
    assert.equal(backoffDelay(n, { random: () => 0 }), 0);
    const top = backoffDelay(n, { random: () => 0.999999 });
    assert.ok(top < backoffCeiling(n) && top >= backoffCeiling(n) - 1, `retry ${n}: ${top}`);
    for (let i = 0; i < 200; i++) {
      const d = backoffDelay(n);
      assert.ok(d >= 0 && d < backoffCeiling(n), `retry ${n}: ${d} outside [0, ${backoffCeiling(n)})`);
    }
  }
});

test("every close code gets the recovery the protocol documents", () => {
  const want = {
    1000: "stop", 1001: "reconnect_now", 1006: "reconnect_later", 1009: "stop", 1011: "reconnect_later",
    1013: "reconnect_later", 4001: "renew_session", 4002: "stop", 4003: "stop", 4004: "stop",
    4008: "reconnect_later", 4009: "reconnect_later", 4999: "reconnect_later", [-1]: "reconnect_later",
  };
  for (const [code, recovery] of Object.entries(want)) assert.equal(recoveryFor(Number(code)), recovery, `close ${code}`);
});

test("a draining node is left at once, but only the first time in a row", () => {
  const random = () => 0.5;
  assert.equal(reconnectDelay("reconnect_now", 1, { random }), 0);
  assert.equal(reconnectDelay("reconnect_now", 2, { random }), 250);
  assert.equal(reconnectDelay("reconnect_later", 1, { random }), 250);
  assert.equal(reconnectDelay("reconnect_later", 3, { random }), 1000);
  assert.equal(reconnectDelay("stop", 3, { random }), 0);
});

test("retry_after is a floor with jitter on top", () => {
  assert.equal(reconnectDelay("reconnect_later", 1, { random: () => 0 }, 5000), 5000);
  assert.ok(reconnectDelay("reconnect_later", 1, { random: () => 0.99 }, 5000) < 5500);
});
