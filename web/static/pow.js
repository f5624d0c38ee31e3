// Foyer proof of work, browser side: solves the challenge the server hands out
// before a shopper may join a sale. Plain script, no build step; it sets one
// global, FoyerPow.
//
// The hashing rule, the same as in Go (internal/pow):
//
//   hash = SHA-256(UTF-8(challenge + ":" + counter))
//
// where challenge is the string exactly as the server sent it and counter is a
// non-negative integer in decimal without leading zeros ("0", "1", "2", ...).
// A counter solves the challenge when hash starts with at least difficulty
// zero bits, counted from the most significant bit of its first byte. Counters
// are tried from 0 upwards, so this finds the same, smallest counter as Go's
// pow.Solve; on average that takes 2^difficulty hashes.
//
// FoyerPow.solve(challenge, difficulty, onProgress) -> Promise<string>
//   resolves with the counter to send back as the solution ("" when challenge
//   is "": difficulty 0, nothing to do). onProgress, if given, is called after
//   every batch with the number of hashes tried so far.
//
// FoyerPow.solveAside(challenge, difficulty, onProgress) -> Promise<string>
//   the same answer, worked out in a Web Worker running this very file, so
//   the page stays responsive on a slow phone; on the page itself only where
//   the browser has no Worker (or cannot start this one).
//
// The page loads this file with <script id="pow-script">: the worker is
// started from that element's src, the content-named URL the server gives
// it, which the page's Content-Security-Policy (worker-src 'self') admits.
"use strict";

(() => {
  // BATCH digests are started together: WebCrypto digests are asynchronous,
  // and several in flight hide part of the cost of each call. Each digest
  // resolves in a task of its own, so the page renders and handles input while
  // a batch runs. At a desktop's ~40,000 digests/s a batch is ~13 ms, which is
  // also the most a solve can overshoot by.
  const BATCH = 512;
  const MAX_DIFFICULTY = 32; // as pow.MaxDifficulty in Go

  const encoder = new TextEncoder();

  // leadingZeroBits counts the zero bits of a hash before its first one bit.
  function leadingZeroBits(hash) {
    let n = 0;
    for (const b of hash) {
      if (b !== 0) return n + Math.clz32(b) - 24;
      n += 8;
    }
    return n;
  }

  async function solve(challenge, difficulty, onProgress) {
    if (!challenge) return "";
    if (!Number.isInteger(difficulty) || difficulty < 0 || difficulty > MAX_DIFFICULTY) {
      throw new RangeError(`pow: difficulty ${difficulty} is outside 0..${MAX_DIFFICULTY}`);
    }
    const prefix = challenge + ":";
    for (let start = 0; ; start += BATCH) {
      const digests = [];
      for (let counter = start; counter < start + BATCH; counter++) {
        digests.push(crypto.subtle.digest("SHA-256", encoder.encode(prefix + counter)));
      }
      const hashes = await Promise.all(digests);
      // In counter order, so the first hit is the smallest counter, as in Go.
      for (let i = 0; i < hashes.length; i++) {
        if (leadingZeroBits(new Uint8Array(hashes[i])) >= difficulty) return String(start + i);
      }
      if (onProgress) onProgress(start + BATCH);
    }
  }

  // In a worker: answer {challenge, difficulty} with {progress} messages,
  // then {solution} or {error}.
  if (typeof WorkerGlobalScope !== "undefined" && globalThis instanceof WorkerGlobalScope) {
    globalThis.onmessage = async (e) => {
      const { challenge, difficulty } = e.data || {};
      try {
        const solution = await solve(challenge, difficulty, (tried) => globalThis.postMessage({ progress: tried }));
        globalThis.postMessage({ solution });
      } catch (err) {
        globalThis.postMessage({ error: String(err && err.message ? err.message : err) });
      }
    };
    return;
  }

  // workerURL is where this file was loaded from, to run it again as a worker.
  const workerURL = () => {
    const script = document.getElementById("pow-script");
    return script ? script.src : "";
  };

  // solvedBy says where the last solveAside did its work: "worker" or "page".
  let solvedBy = "";

  function solveAside(challenge, difficulty, onProgress) {
    if (!challenge) return Promise.resolve("");
    let worker;
    try {
      if (typeof Worker !== "function" || !workerURL()) throw new Error("no Worker");
      worker = new Worker(workerURL());
    } catch {
      solvedBy = "page";
      return solve(challenge, difficulty, onProgress); // no Worker: on the page, in small batches
    }
    solvedBy = "worker";
    return new Promise((resolve, reject) => {
      worker.onmessage = (e) => {
        const m = e.data || {};
        if ("progress" in m) {
          if (onProgress) onProgress(m.progress);
          return;
        }
        worker.terminate();
        if ("solution" in m) resolve(m.solution);
        else reject(new Error(m.error || "pow: the worker failed"));
      };
      // A worker that could not load (blocked, gone): the page does the work.
      worker.onerror = (e) => {
        e.preventDefault();
        worker.terminate();
        solvedBy = "page";
        solve(challenge, difficulty, onProgress).then(resolve, reject);
      };
      worker.postMessage({ challenge, difficulty });
    });
  }

  globalThis.FoyerPow = Object.freeze({ solve, solveAside, leadingZeroBits, solvedBy: () => solvedBy });
})();
