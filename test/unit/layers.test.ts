// The TypeScript side's layers point one way (docs/ARCHITECTURE.md): no import cycles, and the
// domain never imports src/cli/.
import { expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

const src = join(import.meta.dir, "../../src");

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? files(join(dir, n)) : n.endsWith(".ts") ? [join(dir, n)] : []));
}

test("no import cycle among src/ files", () => {
  const r = Bun.spawnSync(["bun", join(import.meta.dir, "../../scripts/import-cycles.ts"), src]);
  expect(r.stdout.toString()).toBe("0 import cycles, 0 files in them\n");
  expect(r.exitCode).toBe(0);
});

test("domain modules never import src/cli/", () => {
  const offenders = files(src)
    .filter((f) => !f.includes("/src/cli/") && !f.endsWith("/src/main.ts"))
    .filter((f) => /from "(\.\.\/)+cli\//.test(readFileSync(f, "utf8")))
    .map((f) => f.slice(src.length + 1));
  expect(offenders).toEqual([]);
});

test("network/ never imports container/ (it works on requests: network/request.ts)", () => {
  const offenders = files(join(src, "network"))
    .filter((f) => /from "(\.\.\/)+container\//.test(readFileSync(f, "utf8")))
    .map((f) => f.slice(src.length + 1));
  expect(offenders).toEqual([]);
});

test("a container's recorded state is read in container/state.ts only (decide, stateOf)", () => {
  // store/repair.ts rebuilds rows from bundles; image/remove.ts reads its own query (docs/ARCHITECTURE.md, known debts).
  const allowed = ["container/state.ts", "store/repair.ts", "image/remove.ts"];
  const offenders = files(src)
    .map((f) => f.slice(src.length + 1))
    .filter((f) => !allowed.includes(f))
    .filter((f) => /\.state (===|!==) "(created|running|exited)"/.test(readFileSync(join(src, f), "utf8")));
  expect(offenders).toEqual([]);
});
