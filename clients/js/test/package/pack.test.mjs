// npm pack makes a package that installs on its own (offline: it has no
// runtime dependencies) and loads by require and by import, with its types.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

test("the packed tarball installs offline and loads as CommonJS and as ESM", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "foyer-client-pack-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const npm = (args, cwd) => execFileSync("npm", [...args, "--no-audit", "--no-fund", "--loglevel=error"], { cwd, encoding: "utf8" });

  const packed = JSON.parse(npm(["pack", "--json", "--pack-destination", dir], root));
  const files = packed[0].files.map((f) => f.path);
  for (const f of ["dist/esm/index.js", "dist/esm/index.d.ts", "dist/cjs/index.js", "dist/cjs/index.d.ts", "dist/cjs/package.json", "README.md"]) {
    assert.ok(files.includes(f), `${f} is in the package`);
  }
  assert.ok(!files.some((f) => f.startsWith("src/") || f.startsWith("test/") || f.startsWith("node_modules/")), files.join(" "));
  const tarball = readdirSync(dir).find((f) => f.endsWith(".tgz"));
  assert.equal(tarball, "foyer-client-1.0.0.tgz");

  const app = join(dir, "app");
  execFileSync("mkdir", [app]);
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", private: true }));
  npm(["install", "--offline", join(dir, tarball)], app);

  const cjs = execFileSync(process.execPath, ["-e", "const f = require('@foyer/client'); console.log(f.SUBPROTOCOL, typeof f.FoyerClient)"], { cwd: app, encoding: "utf8" });
  assert.equal(cjs.trim(), "foyer.v1 function");
  const esm = execFileSync(process.execPath, ["--input-type=module", "-e", "import { SUBPROTOCOL, FoyerClient } from '@foyer/client'; console.log(SUBPROTOCOL, typeof FoyerClient)"], { cwd: app, encoding: "utf8" });
  assert.equal(esm.trim(), "foyer.v1 function");
});
