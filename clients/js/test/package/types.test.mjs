// The published types serve an app: test/types/usage.ts, written as an app
// would, compiles against dist's .d.ts, and its marked mistakes do not.
import { execFileSync } from "node:child_process";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

test("an app's use of the client type-checks against the published declarations", () => {
  execFileSync(process.execPath, [join(root, "node_modules", "typescript", "bin", "tsc"), "-p", join(root, "test", "types", "tsconfig.json")], {
    cwd: root,
    stdio: "inherit",
  });
});
