import assert from "node:assert/strict";
import { test } from "node:test";

import { readEvents } from "../../dist/esm/index.js";

function streamOf(chunks) {
  const enc = new TextEncoder();
  return new ReadableStream({
    start(c) {
      for (const chunk of chunks) c.enqueue(enc.encode(chunk));
      c.close();
    },
  });
}

test("events split anywhere across chunks are read whole, comments skipped", async () => {
  const got = [];
  const stopped = await readEvents(
    streamOf(['data: {"type":"wel', 'come"}\r\n\r', "\n: heartbeat\n\n", "data: a\ndata: b\n\n", "event: close\ndata: {\"code\":4009}\n\n", "data: after\n\n"]),
    (event, data) => {
      got.push([event, data]);
      return event === "close";
    },
  );
  assert.equal(stopped, true);
  assert.deepEqual(got, [["", '{"type":"welcome"}'], ["", "a\nb"], ["close", '{"code":4009}']]);
});

test("a stream that ends without a close says so", async () => {
  const got = [];
  assert.equal(await readEvents(streamOf(["data: x\n\n", "data: cut"]), (e, d) => (got.push(d), false)), false);
  assert.deepEqual(got, ["x"]);
});
