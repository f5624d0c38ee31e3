// Times the shopper page's solver, @foyer/client's solvePow as bundled in
// web/static/client/foyer.js, under node (WebCrypto, a fair stand-in for a
// desktop browser):
//   node bench.js <path to foyer.js> [difficulty...]      (default 12 16 20)
// For each difficulty it solves random challenges for about 10 s (at least 3)
// and prints the hash rate, the mean solve time measured, and the mean to
// expect, 2^difficulty / rate: solve times are geometric, so a few solves say
// little and the rate says more.
"use strict";

const fs = require("fs");
const path = require("path");
const crypto = require("crypto");
const vm = require("vm");
const [bundle, ...args] = process.argv.slice(2);
vm.runInThisContext(fs.readFileSync(path.resolve(bundle), "utf8")); // a classic script: sets the global Foyer
const difficulties = args.length ? args.map(Number) : [12, 16, 20];
const BUDGET_MS = 10000;

// A challenge of the real length (79 characters); its content does not matter.
const randomChallenge = () => crypto.randomBytes(26).toString("base64url") + "." + crypto.randomBytes(32).toString("base64url");

(async () => {
  console.log("difficulty  solves  hashes/s   measured mean  expected mean");
  for (const d of difficulties) {
    let solves = 0, hashes = 0;
    const start = performance.now();
    while (solves < 3 || performance.now() - start < BUDGET_MS) {
      hashes += Number(await globalThis.Foyer.solvePow(randomChallenge(), d)) + 1;
      solves++;
    }
    const seconds = (performance.now() - start) / 1000;
    const rate = hashes / seconds;
    console.log(`${String(d).padStart(10)}  ${String(solves).padStart(6)}  ${Math.round(rate).toString().padStart(8)}  ` +
      `${(1000 * seconds / solves).toFixed(1).padStart(11)} ms  ${(1000 * 2 ** d / rate).toFixed(1).padStart(10)} ms`);
  }
})();
