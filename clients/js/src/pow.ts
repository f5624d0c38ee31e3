// Proof of work (docs/pow.md): find the smallest counter n whose
// SHA-256(challenge + ":" + n) starts with `difficulty` zero bits. The same
// rule and the same answer as Go's pow.Solve.

/** As pow.MaxDifficulty in Go: a challenge asking more is refused. */
export const MAX_DIFFICULTY = 32;

/**
 * Digests started together: WebCrypto digests are asynchronous, and several
 * in flight hide part of each call's cost; each resolves in a task of its
 * own, so the app stays responsive while a batch runs. At a desktop's
 * ~40,000 digests/s a batch is ~13 ms, which is also how often progress is told.
 */
const BATCH = 512;

/** Computes SHA-256; defaults to WebCrypto (browsers, Node ≥ 18; React Native needs one injected). */
export type Sha256 = (data: Uint8Array) => Promise<ArrayBuffer | Uint8Array>;

/** Called after every batch with the number of hashes tried so far. */
export type PowProgress = (tried: number) => void;

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
export async function solvePow(challenge: string, difficulty: number, sha256: Sha256 = defaultSha256(), onProgress?: PowProgress): Promise<string> {
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
    onProgress?.(start + BATCH);
  }
}

/**
 * The worker's side of solvePowAside: answers {challenge, difficulty} with
 * {progress} after every batch, then {solution} or {error}. src/pow-worker.ts
 * runs it from a script of your own origin (the `powWorkerUrl` option).
 */
export function servePowInWorker(scope: { onmessage: unknown; postMessage(msg: unknown): void }): void {
  scope.onmessage = async (e: { data?: { challenge?: string; difficulty?: number } }) => {
    const { challenge = "", difficulty = 0 } = e.data ?? {};
    try {
      const solution = await solvePow(challenge, difficulty, undefined, (tried) => scope.postMessage({ progress: tried }));
      scope.postMessage({ solution });
    } catch (err) {
      scope.postMessage({ error: String(err instanceof Error ? err.message : err) });
    }
  };
}

/**
 * The same program as a Blob worker's source, where no worker script was
 * named: self-contained, since a Blob worker cannot import the package.
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
      postMessage({ progress: s + ${BATCH} });
    }
  } catch (err) { postMessage({ error: String(err) }); }
};`;

interface WorkerLike {
  onmessage: ((e: { data: { solution?: string; error?: string; progress?: number } }) => void) | null;
  onerror: ((e: { preventDefault?: () => void }) => void) | null;
  postMessage(msg: unknown): void;
  terminate(): void;
}

/** How solvePowAside works. */
export interface PowOptions {
  /** SHA-256 where WebCrypto is missing; given, the work is done on this thread. */
  sha256?: Sha256;
  /**
   * A worker script of the page's own origin (this package's dist/esm/pow-worker.js, or a
   * bundle of it), for pages whose Content-Security-Policy refuses blob: workers
   * (`worker-src 'self'`). Without it the worker is made from a Blob.
   */
  workerUrl?: string;
  onProgress?: PowProgress;
}

/** A solution, and where it was worked out. */
export interface PowSolved {
  solution: string;
  /** "worker" (a Web Worker) or "thread" (the caller's own, in batches). */
  by: "worker" | "thread";
}

/**
 * Solves a challenge in a Web Worker where the platform has one (browsers),
 * so a slow phone's page stays responsive; on this thread otherwise (React
 * Native, Node, a policy refusing the worker, a worker that fails to load).
 */
export async function solvePowWith(challenge: string, difficulty: number, opts: PowOptions = {}): Promise<PowSolved> {
  const onThread = async (): Promise<PowSolved> => ({ solution: await solvePow(challenge, difficulty, opts.sha256, opts.onProgress), by: "thread" });
  const g = globalThis as {
    Worker?: new (url: string, opts?: { type?: "module" | "classic" }) => WorkerLike;
    Blob?: typeof Blob;
    URL?: { createObjectURL?: (b: Blob) => string; revokeObjectURL?: (u: string) => void };
  };
  if (opts.sha256 || !g.Worker || !challenge) return onThread();
  let blobUrl = "";
  let worker: WorkerLike;
  try {
    if (opts.workerUrl) {
      // A module worker: the package's pow-worker.js imports the rule from
      // pow.js; a bundle of it (no imports) runs as a module all the same.
      worker = new g.Worker(opts.workerUrl, { type: "module" });
    } else {
      if (!g.Blob || !g.URL?.createObjectURL) return onThread();
      blobUrl = g.URL.createObjectURL(new g.Blob([WORKER_SOURCE], { type: "text/javascript" }));
      worker = new g.Worker(blobUrl);
    }
  } catch {
    return onThread(); // refused by policy: work here
  }
  try {
    return await new Promise<PowSolved>((resolve, reject) => {
      worker.onmessage = (e) => {
        const m = e.data ?? {};
        if (m.progress !== undefined) return opts.onProgress?.(m.progress);
        if (m.solution !== undefined) resolve({ solution: m.solution, by: "worker" });
        else reject(new Error(`pow worker: ${m.error}`));
      };
      // A worker that could not load (blocked, gone): the work is done here.
      worker.onerror = (e) => {
        e.preventDefault?.();
        onThread().then(resolve, reject);
      };
      worker.postMessage({ challenge, difficulty });
    });
  } finally {
    worker.terminate();
    if (blobUrl) g.URL?.revokeObjectURL?.(blobUrl);
  }
}

/** solvePowWith's solution alone; sha256, as before, puts the work on this thread. */
export async function solvePowAside(challenge: string, difficulty: number, sha256?: Sha256): Promise<string> {
  return (await solvePowWith(challenge, difficulty, { sha256 })).solution;
}
