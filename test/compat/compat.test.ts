// Docker compatibility: every scenario (an ordinary script that calls `docker …`) run against
// dist/tsd, its normalised stdout and exit status compared with what Docker 20.10 answered
// (expected/NAME.out, recorded by record.ts from a private dockerd). A scenario listed in
// differences.json is a known difference, with its reason; it is run and reported, and must
// still differ (a fixed one is taken off the list). Every other scenario must match.
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { TestRoot, TSD } from "../lib/tsd";
import { testImages, type TestImages } from "../lib/fixtures";
import { EXPECTED, render, runScenario, scenarioNames } from "./lib";

setDefaultTimeout(120000);

const differences = JSON.parse(readFileSync(join(import.meta.dir, "differences.json"), "utf8")) as Record<string, string>;
const results = new Map<string, boolean>();
let images: TestImages;

beforeAll(async () => {
  images = await testImages();
});

afterAll(() => {
  const same = [...results.values()].filter(Boolean).length;
  process.stderr.write(`compat: ${same} of ${results.size} scenarios identical to Docker 20.10 in stdout and exit status\n`);
});

test("every listed difference names a scenario and a reason", () => {
  const names = new Set(scenarioNames());
  for (const [name, reason] of Object.entries(differences)) {
    expect(names.has(name)).toBe(true);
    expect(reason.length).toBeGreaterThan(20);
  }
  for (const name of names) expect(existsSync(join(EXPECTED, `${name}.out`))).toBe(true);
});

for (const name of scenarioNames()) {
  test(name, async () => {
    const t = new TestRoot(`compat-${name.slice(0, 2)}`);
    const work = mkdtempSync("/tmp/tsd-compat-work-");
    try {
      await t.ok(["load", "-i", images.busyboxDocker]);
      const got = render(await runScenario(name, [TSD, "--root", t.dir], work));
      const want = readFileSync(join(EXPECTED, `${name}.out`), "utf8");
      results.set(name, got === want);
      if (name in differences) expect(got).not.toBe(want);
      else expect(got).toBe(want);
    } finally {
      rmSync(work, { recursive: true, force: true });
      const leaks = t.leaks();
      await t.destroy();
      expect(leaks).toEqual([]);
    }
  });
}
