// Proof of work (docs/pow.md): find the smallest counter n whose
// SHA-256(challenge + ":" + n) starts with `difficulty` zero bits. The same
// rule and the same answer as Go's pow.Solve and web/static/pow.js.

/** As pow.MaxDifficulty in Go: a challenge asking more is refused. */
export const MAX_DIFFICULTY = 32;

/**
 * Digests started together: WebCrypto digests are asynchronous, and several
 * in flight hide part of each call's cost; each resolves in a task of its
 * own, so the app stays responsive while a batch runs.
 */
const BATCH = 512;

/** Computes SHA-256; defaults to WebCrypto (browsers, Node ≥ 18; React Native needs one injected). */
export type Sha256 = (data: Uint8Array) => Promise<ArrayBuffer | Uint8Array>;

function defaultSha256(): Sha256 {
  const subtle = (globalThis as { crypto?: { subtle?: SubtleCrypto } }).crypto?.subtle;
  if (!subtle) throw new Error("pow: no WebCrypto here; pass a sha256 function in the client's options");
  return (data) => subtle.digest("SHA-256", data as Uint8Array<ArrayBuffer>);
}

/** leadingZeroBits counts a hash's zero bits before its first one bit. */
export function leadingZeroBits(hash: Uint8Array): number {
  let n = 0;
  for (const b of hash) {
    if (b !== 0) return n + Math.clz32(b) - 24;
    n += 8;
  }
  return n;
}

/** Solves a challenge on this thread, in batches that yield between them. */
export async function solvePow(challenge: string, difficulty: number, sha256: Sha256 = defaultSha256()): Promise<string> {
  if (!challenge) return "";
  if (!Number.isInteger(difficulty) || difficulty < 0 || difficulty > MAX_DIFFICULTY) {
    throw new RangeError(`pow: difficulty ${difficulty} is outside 0..${MAX_DIFFICULTY}`);
  }
  const encoder = new TextEncoder();
  const prefix = challenge + ":";
  for (let start = 0; ; start += BATCH) {
    const digests: Array<Promise<ArrayBuffer | Uint8Array>> = [];
    for (let counter = start; counter < start + BATCH; counter++) digests.push(sha256(encoder.encode(prefix + counter)));
    const hashes = await Promise.all(digests);
    // In counter order, so the first hit is the smallest counter, as in Go.
    for (let i = 0; i < hashes.length; i++) {
      if (leadingZeroBits(new Uint8Array(hashes[i]!)) >= difficulty) return String(start + i);
    }
  }
}

/**
 * The worker's program: the same rule, self-contained, since a Blob worker
 * cannot import the package.
 */
const WORKER_SOURCE = `
const z = (h) => { let n = 0; for (const b of h) { if (b !== 0) return n + Math.clz32(b) - 24; n += 8; } return n; };
onmessage = async (e) => {
  const { challenge, difficulty } = e.data; const enc = new TextEncoder(); const p = challenge + ":";
  try {
    for (let s = 0; ; s += ${BATCH}) {
      const d = []; for (let c = s; c < s + ${BATCH}; c++) d.push(crypto.subtle.digest("SHA-256", enc.encode(p + c)));
      const hs = await Promise.all(d);
      for (let i = 0; i < hs.length; i++) if (z(new Uint8Array(hs[i])) >= difficulty) { postMessage({ solution: String(s + i) }); return; }
    }
  } catch (err) { postMessage({ error: String(err) }); }
};`;

interface WorkerLike {
  onmessage: ((e: { data: { solution?: string; error?: string } }) => void) | null;
  onerror: ((e: unknown) => void) | null;
  postMessage(msg: unknown): void;
  terminate(): void;
}

/**
 * Solves a challenge in a Web Worker where the platform has one (browsers),
 * so a slow phone's page stays responsive; on this thread otherwise (React
 * Native, Node, or a page whose Content-Security-Policy refuses blob: workers).
 */
export async function solvePowAside(challenge: string, difficulty: number, sha256?: Sha256): Promise<string> {
  const g = globalThis as {
    Worker?: new (url: string) => WorkerLike;
    Blob?: typeof Blob;
    URL?: { createObjectURL?: (b: Blob) => string; revokeObjectURL?: (u: string) => void };
  };
  if (sha256 || !g.Worker || !g.Blob || !g.URL?.createObjectURL || !challenge) {
    return solvePow(challenge, difficulty, sha256);
  }
  let url = "";
  let worker: WorkerLike;
  try {
    url = g.URL.createObjectURL(new g.Blob([WORKER_SOURCE], { type: "text/javascript" }));
    worker = new g.Worker(url);
  } catch {
    return solvePow(challenge, difficulty); // refused by policy: work here
  }
  try {
    return await new Promise<string>((resolve, reject) => {
      worker.onmessage = (e) => (e.data.solution !== undefined ? resolve(e.data.solution) : reject(new Error(`pow worker: ${e.data.error}`)));
      worker.onerror = () => solvePow(challenge, difficulty).then(resolve, reject);
      worker.postMessage({ challenge, difficulty });
    });
  } finally {
    worker.terminate();
    g.URL.revokeObjectURL?.(url);
  }
}
