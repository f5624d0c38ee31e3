// Compiled (not run) by test/package/types.test.mjs against dist's .d.ts:
// what an app writes type-checks, and a mistake does not.
import { FoyerClient, FoyerError, type ErrorCode, type PositionMessage } from "@foyer/client";

const client = new FoyerClient({ baseUrl: "https://foyer.example.com", saleId: "s_1" });
client.on("position", (p: PositionMessage) => p.position + p.ahead + (p.eta?.max_seconds ?? 0));
client.on("admitted", async (a) => {
  if (a.checkout === "shop") return;
  const r = await client.checkout(a, { idempotencyKey: a.reservation_id });
  return r.status;
});
client.on("order", (o) => o.status === "paid");
client.on("failure", (e: FoyerError) => e.code === "sold_out" || e.retryAfter);
client.on("notice", (n) => (n.code === "degraded" ? n.message : ""));
const code: ErrorCode = "pow_required";
// @ts-expect-error: no such message type
client.on("teleport", () => {});
// @ts-expect-error: a position has no reservation_id
client.on("position", (p) => p.reservation_id);
export { code };
