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
  // system/repair.ts rebuilds rows from bundles; image/remove.ts reads its own query (docs/ARCHITECTURE.md, known debts).
  const allowed = ["container/state.ts", "system/repair.ts", "image/remove.ts"];
  const offenders = files(src)
    .map((f) => f.slice(src.length + 1))
    .filter((f) => !allowed.includes(f))
    .filter((f) => /\.state (===|!==) "(created|running|exited)"/.test(readFileSync(join(src, f), "utf8")));
  expect(offenders).toEqual([]);
});

/** The folders in their layers, top first: a folder imports only from folders below it (and
 *  its own). cli/ and main.ts sit above them all. */
const LAYERS: string[][] = [["system", "runtime"], ["container"], ["image", "network"], ["cgroup"], ["store", "native", "format"]];
const ROOT_FILES = ["errors.ts", "io.ts", "interrupt.ts", "fault.ts", "format.ts", "types.d.ts"];

function level(folder: string): number {
  return LAYERS.findIndex((l) => l.includes(folder));
}

test("layers point one way: system → container → image, network → cgroup → store, native, format", () => {
  const offenders: string[] = [];
  for (const f of files(src)) {
    const rel = f.slice(src.length + 1);
    const folder = rel.split("/")[0]!;
    if (folder === "cli" || rel === "main.ts") continue;
    const from = ROOT_FILES.includes(rel) ? LAYERS.length : level(folder);
    expect(from).toBeGreaterThanOrEqual(0);
    for (const m of readFileSync(f, "utf8").matchAll(/from "((\.\.?\/)+)([\w-]+)[/"]/g)) {
      const depth = m[1]!.split("/").length - 1;
      const target = depth === 1 && m[1] === "./" ? folder : m[3]!;
      if (target === folder || ROOT_FILES.includes(`${target}.ts`) || target === "package") continue;
      const to = level(target);
      if (to >= 0 && to <= from && !(LAYERS[from]?.includes(target))) offenders.push(`${rel} → ${target}/`);
    }
  }
  expect(offenders).toEqual([]);
});
