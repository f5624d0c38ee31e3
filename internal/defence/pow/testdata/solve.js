// Solves one challenge with the shopper page's proof-of-work worker
// (web/static/client/pow-worker.js, @foyer/client bundled), for pow's tests:
//   node solve.js <path to pow-worker.js> <challenge> <difficulty>
// prints the counter. The worker runs as a classic script in this context,
// talking through onmessage and postMessage as in a browser's Worker; Node
// 20's globalThis.crypto is WebCrypto, as in a browser.
"use strict";

const fs = require("fs");
const path = require("path");
const vm = require("vm");
const [workerJS, challenge, difficulty] = process.argv.slice(2);
globalThis.postMessage = (m) => {
  if ("solution" in m) console.log(m.solution);
  else if ("error" in m) {
    console.error(m.error);
    process.exit(1);
  }
};
vm.runInThisContext(fs.readFileSync(path.resolve(workerJS), "utf8"));
globalThis.onmessage({ data: { challenge, difficulty: Number(difficulty) } });
