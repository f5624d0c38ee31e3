// Verifies a Foyer reservation token with the keys Foyer publishes at
// /.well-known/jwks.json, using only Node's built-in crypto (Node 20+):
// no npm install. The JavaScript example of docs/integration.md,
// "Verifying a reservation token".
//
//   node verify.mjs <jwks-url> <sale-id> <token>
//
// prints the reservation as JSON and exits 0, or prints why the token is
// refused and exits 1.
import { createPublicKey, verify } from "node:crypto";
import { pathToFileURL } from "node:url";

const ISSUER = "foyer";
const LEEWAY_S = 5; // how far apart Foyer's clock and the shop's may be

// Keys by JWKS URL: {byKid: Map of kid to KeyObject, at: when fetched}.
// Fetched again when a token names a kid we do not know (Foyer rotated its
// key), but not more than once a minute: junk tokens with made-up kids must
// not make us hammer Foyer.
const cache = new Map();
const REFETCH_MS = 60_000;

async function fetchKeys(jwksUrl) {
  const res = await fetch(jwksUrl);
  if (!res.ok) throw new Error(`JWKS ${jwksUrl}: HTTP ${res.status}`);
  const { keys } = await res.json();
  const byKid = new Map();
  for (const jwk of keys || []) {
    if (jwk.kty !== "OKP" || jwk.crv !== "Ed25519" || jwk.alg !== "EdDSA" || !jwk.kid) continue;
    byKid.set(jwk.kid, createPublicKey({ key: jwk, format: "jwk" }));
  }
  cache.set(jwksUrl, { byKid, at: Date.now() });
  return byKid;
}

async function keyFor(jwksUrl, kid) {
  const cached = cache.get(jwksUrl);
  let keys = cached && cached.byKid;
  if (!keys || (!keys.has(kid) && Date.now() - cached.at > REFETCH_MS)) keys = await fetchKeys(jwksUrl);
  const key = keys.get(kid);
  if (!key) throw new Error(`unknown key ${kid}`);
  return key;
}

function decodePart(part) {
  return JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
}

// verifyReservationToken checks that token is a reservation of saleId that
// Foyer signed and that has not expired, and returns the reservation.
export async function verifyReservationToken(token, { jwksUrl, saleId, now = Date.now() }) {
  const parts = String(token).split(".");
  if (parts.length !== 3) throw new Error("not a JWT");
  const [h, p, s] = parts;
  const header = decodePart(h);
  // Only EdDSA: never "none", never HS256 keyed with the public key.
  if (header.alg !== "EdDSA") throw new Error(`alg ${header.alg} refused`);
  if (typeof header.kid !== "string" || !header.kid) throw new Error("no kid");
  const key = await keyFor(jwksUrl, header.kid);
  // Ed25519 takes no digest: the algorithm argument is null.
  if (!verify(null, Buffer.from(`${h}.${p}`), key, Buffer.from(s, "base64url"))) {
    throw new Error("bad signature");
  }
  const claims = decodePart(p);
  if (claims.iss !== ISSUER) throw new Error(`iss ${claims.iss} refused`);
  // aud is the sale, one JSON string (an array is accepted too, as RFC 7519 allows).
  const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!aud.includes(saleId)) throw new Error(`token is for another sale (${aud.join(",")})`);
  if (typeof claims.exp !== "number") throw new Error("no exp");
  if (claims.exp + LEEWAY_S <= now / 1000) throw new Error("token expired");
  if (!claims.jti || !claims.sub) throw new Error("no reservation (jti) or shopper (sub)");
  return {
    id: claims.jti, sale_id: saleId, shopper_id: claims.sub,
    customer_id: claims.cid ?? "", // the shop's own customer id, for a customer's session
    expires_at: new Date(claims.exp * 1000).toISOString(),
  };
}

// Run as a program: node verify.mjs <jwks-url> <sale-id> <token>
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [jwksUrl, saleId, token] = process.argv.slice(2);
  if (!jwksUrl || !saleId || !token) {
    console.error("usage: node verify.mjs <jwks-url> <sale-id> <token>");
    process.exit(2);
  }
  try {
    console.log(JSON.stringify(await verifyReservationToken(token, { jwksUrl, saleId })));
  } catch (err) {
    console.error(`refused: ${err.message}`);
    process.exit(1);
  }
}
