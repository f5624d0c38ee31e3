import assert from "node:assert/strict";
import { test } from "node:test";

import { leadingZeroBits, solvePow, solvePowAside } from "../../dist/esm/index.js";

// The worked example of docs/protocol.md: the same smallest counter as Go's pow.Solve.
const challenge = "ARAAAAGiHDuigD9PTYAqq_3tuQXm8RxLTOk.7qnE9IiavYhwBRoGKbp4peHY3GQThaRqBEcuvaaOcJE";

test("proof of work finds the smallest counter Go finds", async () => {
  assert.equal(await solvePow(challenge, 16), "11617");
  assert.equal(await solvePowAside(challenge, 16), "11617");
});

test("leading zero bits count from the first byte's top bit", () => {
  assert.equal(leadingZeroBits(new Uint8Array([0, 0x10, 0xff])), 11);
  assert.equal(leadingZeroBits(new Uint8Array([0x80])), 0);
  assert.equal(leadingZeroBits(new Uint8Array([0, 0])), 16);
});

test("a difficulty out of range is refused, an empty challenge needs nothing", async () => {
  await assert.rejects(solvePow(challenge, 33), RangeError);
  await assert.rejects(solvePow(challenge, 1.5), RangeError);
  assert.equal(await solvePow("", 16), "");
});
