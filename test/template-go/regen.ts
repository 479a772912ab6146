// Regenerates golden.json with Go: bun test/template-go/regen.ts [OUT]  (needs `go` on PATH).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { allCases } from "./cases";

export function renderWithGo(out: string, go = "go"): void {
  const dir = mkdtempSync(join(tmpdir(), "tsd-template-go-"));
  try {
    const cases = join(dir, "cases.json");
    writeFileSync(cases, JSON.stringify(allCases()));
    const p = Bun.spawnSync([go, "run", join(import.meta.dir, "main.go"), cases, out], {
      env: { ...process.env, GOFLAGS: "-mod=mod", GO111MODULE: "off", GOCACHE: process.env.GOCACHE ?? join(tmpdir(), "tsd-go-cache") },
      stderr: "pipe",
    });
    if (p.exitCode !== 0) throw new Error(`go run failed: ${p.stderr.toString()}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) renderWithGo(process.argv[2] ?? join(import.meta.dir, "golden.json"));
