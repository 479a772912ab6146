// The set-up the build e2e files share: a TestRoot with the busybox image loaded, a work dir
// for contexts, and the leak check when the file ends.
import { afterAll, beforeAll, expect } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TestRoot } from "./tsd";
import { testImages } from "./fixtures";

export interface BuildFixture {
  /** A context directory under the work dir with these files (a trailing "/" makes a directory). */
  context(name: string, files: Record<string, string>): string;
}

/** Registers the file's beforeAll/afterAll; `ready` gets the root and the work dir. */
export function buildFixture(name: string, ready: (t: TestRoot, work: string) => void): BuildFixture {
  let t: TestRoot | undefined;
  let work = "";
  beforeAll(async () => {
    const images = await testImages();
    t = new TestRoot(name);
    work = mkdtempSync(`/tmp/tsd-e2e-${name}-ctx-`);
    ready(t, work);
    await t.ok(["load", "-i", images.busyboxDocker]);
  }, 120000);
  afterAll(async () => {
    if (!t) return;
    const leaks = t.leaks();
    const dirs = t.containerDirs();
    await t.destroy();
    rmSync(work, { recursive: true, force: true });
    expect(leaks).toEqual([]);
    expect(dirs).toEqual([]);
  });
  return {
    context(dirName, files) {
      const dir = join(work, dirName);
      mkdirSync(dir, { recursive: true });
      for (const [p, content] of Object.entries(files)) {
        if (p.endsWith("/")) mkdirSync(join(dir, p), { recursive: true });
        else {
          mkdirSync(join(dir, p, ".."), { recursive: true });
          writeFileSync(join(dir, p), content);
        }
      }
      return dir;
    },
  };
}
