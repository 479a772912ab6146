// What the cgroup test files (test/e2e/cgroups.test.ts on this host, test/vm/cgroups-v2.test.ts
// in the pure v2 guest) share: runs in the background, waiting for a container to be in its
// group, its database row, and removing a test's own parent group whatever a failed test left.
import { existsSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Database } from "bun:sqlite";
import { processes, TSD, type TestRoot } from "./tsd";

export async function waitFor<T>(what: string, f: () => T | undefined | Promise<T | undefined>, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(20);
  }
}

/** `tsd run --network none --cgroup-parent PARENT …` in the background, as a user in another
 *  terminal, and the container it started once its init has joined its group. */
export class BackgroundRuns {
  last: ReturnType<typeof Bun.spawn> | undefined;

  constructor(
    private readonly t: TestRoot,
    private readonly parent: string,
    /** The cgroup.procs file of the container's group (any hierarchy that has one). */
    private readonly procsOf: (id: string) => string,
    private readonly waitMs: number,
  ) {}

  start(args: string[]) {
    const p = Bun.spawn([TSD, "--root", this.t.dir, "run", "--network", "none", "--cgroup-parent", this.parent, ...args], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    this.last = p;
    return p;
  }

  runningId(): Promise<string> {
    return waitFor("a running container", async () => {
      // A run that already ended will never show up: say why instead of timing out.
      if (this.last && this.last.exitCode !== null) {
        throw new Error(`tsd run exited ${this.last.exitCode}: ${await new Response(this.last.stderr as ReadableStream).text()}`);
      }
      const [id] = (await this.t.ok(["ps", "-q", "--no-trunc"])).split("\n").filter(Boolean);
      if (!id) return undefined;
      const procs = this.procsOf(id);
      return existsSync(procs) && readFileSync(procs, "utf8").trim() !== "" ? id : undefined;
    }, this.waitMs);
  }
}

/** The full ids of a root's containers, newest first. */
export async function containerIds(t: TestRoot): Promise<string[]> {
  return (await t.ok(["ps", "-a", "-q", "--no-trunc"])).split("\n").filter(Boolean);
}

export function dbRow(t: TestRoot, id: string): { exit_code: number; oom_killed: number } {
  const db = new Database(join(t.dir, "tsd.db"), { readonly: true });
  try {
    return db.query("SELECT exit_code, oom_killed FROM containers WHERE id = ?").get(id) as { exit_code: number; oom_killed: number };
  } finally {
    db.close();
  }
}

export function pidsOf(pattern: string): number[] {
  return processes()
    .filter((p) => p.cmdline.replaceAll("\0", " ").includes(pattern))
    .map((p) => p.pid);
}

/** Removes a group and everything below it, killing what is inside (cgroup.kill where the
 *  kernel has it, else each pid), bounded. */
export function removeGroupTree(dir: string): void {
  if (!existsSync(dir)) return;
  for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) removeGroupTree(join(dir, e.name));
  for (let i = 0; i < 200; i++) {
    if (existsSync(join(dir, "cgroup.kill"))) {
      try {
        writeFileSync(join(dir, "cgroup.kill"), "1");
      } catch {}
    } else {
      for (const pid of readFileSync(join(dir, "cgroup.procs"), "utf8").split("\n").filter(Boolean)) {
        try {
          process.kill(Number(pid), "SIGKILL");
        } catch {}
      }
    }
    try {
      rmdirSync(dir);
      return;
    } catch {
      Bun.sleepSync(10);
    }
  }
}

/** The groups directly under each hierarchy's top (every v1 hierarchy, or the v2 root) whose
 *  name starts with `prefix`: what a test's containers left when they were given that prefix. */
export function topGroupsNamed(prefix: string): string[] {
  const out: string[] = [];
  const top = "/sys/fs/cgroup";
  const dirs = existsSync(join(top, "cgroup.controllers")) ? [top] : readdirSync(top).map((d) => join(top, d));
  for (const d of dirs) {
    try {
      for (const e of readdirSync(d)) if (e.startsWith(prefix)) out.push(join(d, e));
    } catch {
      // Not a directory (a v1 tmpfs may hold links).
    }
  }
  return out;
}
