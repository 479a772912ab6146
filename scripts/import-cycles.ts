// Import cycles among the TypeScript files under a folder (relative, non-type imports): prints
// each group of files that import each other in a ring; exit 1 when there is one.
//   bun scripts/import-cycles.ts [src]
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
const root = resolve(process.argv[2] ?? "src");
const files: string[] = [];
const walk = (d: string) => { for (const n of readdirSync(d)) { const p = join(d, n); if (statSync(p).isDirectory()) walk(p); else if (p.endsWith(".ts")) files.push(p); } };
walk(root);
const edges = new Map<string, string[]>();
for (const f of files) {
  const src = readFileSync(f, "utf8");
  const deps = [...src.matchAll(/^import (?!type )[^;]*? from "(\.[^"]+)"/gm)].map((m) => resolve(dirname(f), m[1]!) + ".ts").filter((p) => files.includes(p));
  edges.set(f, deps);
}
// Tarjan
let index = 0; const idx = new Map<string, number>(); const low = new Map<string, number>(); const stack: string[] = []; const on = new Set<string>(); const sccs: string[][] = [];
const strong = (v: string) => {
  idx.set(v, index); low.set(v, index); index++; stack.push(v); on.add(v);
  for (const w of edges.get(v) ?? []) {
    if (!idx.has(w)) { strong(w); low.set(v, Math.min(low.get(v)!, low.get(w)!)); }
    else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
  }
  if (low.get(v) === idx.get(v)) { const c: string[] = []; let w: string; do { w = stack.pop()!; on.delete(w); c.push(w); } while (w !== v); if (c.length > 1) sccs.push(c); }
};
for (const f of files) if (!idx.has(f)) strong(f);
for (const c of sccs) console.log(`${c.length} files: ${c.map((x) => x.slice(root.length + 1)).sort().join(", ")}`);
console.log(`${sccs.length} import cycles, ${sccs.reduce((a, c) => a + c.length, 0)} files in them`);
process.exit(sccs.length > 0 ? 1 : 0);
