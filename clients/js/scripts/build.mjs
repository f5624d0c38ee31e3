// Builds dist/esm (ES modules) and dist/cjs (CommonJS), each with its .d.ts,
// with the TypeScript compiler alone: no bundler, no runtime dependency.
import { execFileSync } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
rmSync(join(root, "dist"), { recursive: true, force: true });
const run = (...args) => execFileSync(process.execPath, [tsc, "-p", join(root, "tsconfig.json"), ...args], { stdio: "inherit", cwd: root });
console.log("build: ESM and CommonJS with tsc");
try {
  run();
  run("--module", "CommonJS", "--moduleResolution", "Node10", "--outDir", join(root, "dist", "cjs"));
} catch {
  process.exit(1); // tsc printed why
}
// The package is "type": "module"; this marks the CommonJS half as such.
writeFileSync(join(root, "dist", "cjs", "package.json"), '{"type":"commonjs"}\n');
