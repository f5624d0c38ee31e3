// Solves one challenge with web/static/pow.js under node, for pow's tests:
//   node solve.js <path to pow.js> <challenge> <difficulty>
// prints the counter. Node 20's globalThis.crypto is WebCrypto, as in a browser.
"use strict";

const path = require("path");
const [powJS, challenge, difficulty] = process.argv.slice(2);
require(path.resolve(powJS));
globalThis.FoyerPow.solve(challenge, Number(difficulty)).then(
  (counter) => console.log(counter),
  (err) => { console.error(err); process.exit(1); },
);
