// Robustness of the daemonless lifecycle: a CLI or a monitor SIGKILLed, 50 parallel starts,
// and a container writing 1 GB while its monitor's memory stays flat.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Database } from "bun:sqlite";
import { TestRoot, TSD } from "../lib/tsd";
import { testImages } from "../lib/fixtures";

setDefaultTimeout(60000);

let t: TestRoot;

beforeAll(async () => {
  const images = await testImages();
  t = new TestRoot("lc-robust");
  // Its own bridge and subnet (from the pid): another checkout may run this file at once.
  writeFileSync(join(t.dir, "network.json"), JSON.stringify({ bridge: `lc${process.pid}b2`, subnet: `10.235.${process.pid % 250}.0/24` }));
  await t.ok(["load", "-i", images.busyboxDocker]);
}, 120000);

afterAll(async () => {
  const ids = (await t.ok(["ps", "-aq", "--no-trunc"])).split("\n").filter(Boolean);
  if (ids.length) await t.tsd(["rm", "-f", ...ids]);
  const leaks = t.leaks();
  await t.destroy();
  expect(leaks).toEqual([]);
});

function row(id: string): { pid: number; monitor_pid: number; state: string; exit_code: number | null; error: string | null } {
  const db = new Database(join(t.dir, "tsd.db"), { readonly: true });
  try {
    return db.query("SELECT pid, monitor_pid, state, exit_code, error FROM containers WHERE id = ?").get(id) as never;
  } finally {
    db.close();
  }
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/^\S+ \(.*\) [ZX]/.test(stat);
  } catch {
    return false;
  }
}

async function until(fn: () => Promise<boolean> | boolean, ms = 15000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error("timed out");
    await Bun.sleep(25);
  }
}

/** The container's cgroup directories that exist on the host (any hierarchy). */
function cgroupDirs(id: string): string[] {
  const out: string[] = [];
  for (const h of readdirSync("/sys/fs/cgroup")) {
    for (const p of [join("/sys/fs/cgroup", h, "tsd", id), join("/sys/fs/cgroup", "tsd", id)]) if (existsSync(p)) out.push(p);
  }
  return out;
}

describe("a CLI SIGKILLed before the monitor takes over (TSD_FAULT, src/fault.ts)", () => {
  const killedAt = async (fault: string, args: string[]) => {
    const r = await t.tsd(args, { env: { TSD_FAULT: fault } });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(137); // Bun.spawn reports a signal death as 128+N
    expect(r.stdout).toBe("");
  };
  const netnsFiles = () => (existsSync(join(t.dir, "netns")) ? readdirSync(join(t.dir, "netns")) : []);
  const leases = async () => JSON.parse(await t.ok(["network", "inspect", "bridge"]))[0].Containers as Record<string, unknown>;
  const idByName = (name: string) => {
    const db = new Database(join(t.dir, "tsd.db"), { readonly: true });
    try {
      return (db.query("SELECT id FROM containers WHERE name = ?").get(name) as { id: string } | null)?.id;
    } finally {
      db.close();
    }
  };

  test("run killed once connected: the next command releases the network; the container is Created and starts", async () => {
    const port = 24000 + (process.pid % 4000);
    const ports = () => Bun.spawnSync(["sh", "-c", "nft list map ip tsd ports_ip 2>/dev/null"]).stdout.toString();
    await killedAt("start:connected", ["run", "--name", "half", "-p", `127.0.0.1:${port}:80`, "busybox", "echo", "ran"]);
    const id = idByName("half")!;
    expect(row(id)).toMatchObject({ state: "created", monitor_pid: -1 });
    expect(netnsFiles()).toEqual([id]); // what the dead run took
    expect(ports()).toContain(`. ${port} :`);
    const ps = await t.ok(["ps", "-a", "--filter", "name=half", "--format", "{{.Status}}"]);
    expect(ps.trim()).toBe("Created");
    expect(netnsFiles()).toEqual([]);
    expect(await leases()).toEqual({});
    expect(ports()).not.toContain(`. ${port} :`);
    expect(row(id)).toMatchObject({ state: "created", monitor_pid: 0 });
    // Before, the first start failed with "already connected to network".
    expect(await t.ok(["start", "-a", "half"])).toBe("ran\n");
    await t.ok(["rm", "half"]);
    expect(netnsFiles()).toEqual([]);
    expect(cgroupDirs(id)).toEqual([]);
  });

  test("run --rm killed once connected: the next command removes it whole", async () => {
    await killedAt("start:connected", ["run", "--rm", "--name", "gone", "busybox", "true"]);
    const id = idByName("gone")!;
    expect(t.containerDirs()).toContain(id);
    await t.ok(["ps", "-a"]);
    expect(idByName("gone")).toBeUndefined();
    expect(t.containerDirs()).not.toContain(id);
    expect(netnsFiles()).toEqual([]);
    expect(cgroupDirs(id)).toEqual([]);
    expect(await leases()).toEqual({});
  });

  test("run killed right after its row was made: the half-made container goes", async () => {
    await killedAt("create:inserted", ["run", "--name", "unmade", "busybox", "true"]);
    expect(idByName("unmade")).toBeDefined();
    await t.ok(["ps", "-a"]);
    expect(idByName("unmade")).toBeUndefined();
    expect(cgroupDirs(idByName("unmade") ?? "none")).toEqual([]);
  });

  test("start killed after it claimed the container: the next start is not refused as 'being started'", async () => {
    await t.ok(["run", "--name", "again", "busybox", "true"]);
    await killedAt("start:marked", ["start", "again"]);
    expect(row(idByName("again")!)).toMatchObject({ state: "created", monitor_pid: -1 });
    await t.ok(["start", "-a", "again"]);
    expect(row(idByName("again")!)).toMatchObject({ state: "exited", exit_code: 0 });
    await t.ok(["rm", "again"]);
    expect(netnsFiles()).toEqual([]);
  });
});

describe("robustness", () => {
  test("the CLI SIGKILLed during an attached run: the container runs on, its exit and output are kept", async () => {
    const cli = Bun.spawn([TSD, "--root", t.dir, "run", "--name", "orphaned", "busybox", "sh", "-c", "echo before; sleep 1; echo after; exit 3"], { stdout: "pipe", stderr: "pipe" });
    const reader = cli.stdout.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toBe("before\n");
    cli.kill("SIGKILL");
    await cli.exited;
    reader.releaseLock();
    // Still running without its CLI, then recorded by the monitor's own cleanup.
    const id = (await t.ok(["inspect", "-f", "{{.Id}}", "orphaned"])).trim();
    expect((await t.ok(["inspect", "-f", "{{.State.Running}}", "orphaned"])).trim()).toBe("true");
    expect((await t.ok(["wait", "orphaned"])).trim()).toBe("3");
    expect(await t.ok(["logs", "orphaned"])).toBe("before\nafter\n");
    await until(() => !alive(row(id).monitor_pid));
    expect(cgroupDirs(id)).toEqual([]);
    await t.ok(["rm", "orphaned"]);
  });

  test("the monitor SIGKILLed: ps shows it exited with an unknown status, and what ran is gone", async () => {
    const id = (await t.ok(["run", "-d", "busybox", "sleep", "300"])).trim();
    const r = row(id);
    expect(alive(r.monitor_pid) && alive(r.pid)).toBe(true);
    process.kill(r.monitor_pid, "SIGKILL");
    await until(() => !alive(r.monitor_pid));
    // The next command that reads state reconciles: exit unknown, cgroup and processes released.
    const ps = await t.ok(["ps", "-a", "--filter", `id=${id}`]);
    expect(ps).toMatch(/Exited \(-1\)/);
    expect(row(id)).toMatchObject({ state: "exited", exit_code: -1 });
    expect(row(id).error).toContain("monitor died");
    await until(() => !alive(r.pid));
    expect(cgroupDirs(id)).toEqual([]);
    expect(await t.ok(["ps", "-q"])).not.toContain(id.slice(0, 12));
    // A pid that is alive but is not the monitor (its start time differs) is not taken for it.
    await t.ok(["rm", id]);
  });

  test("50 run -d at once: all start, unique names and ids, ps lists 50; rm -f leaves the root as it was", async () => {
    // The lifecycle, not the bridge: --network none keeps 50 starts quick on 2 cores.
    await t.ok(["run", "--rm", "--network", "none", "busybox", "true"]);
    const snapshot = () => new Set(walk(t.dir).filter((p) => !/\/(tsd\.db(-wal|-shm)?|bin\/.*)$/.test(p)));
    const before = snapshot();
    const runs = await Promise.all(
      Array.from({ length: 50 }, () => t.tsd(["run", "-d", "--network", "none", "busybox", "sleep", "600"], { timeoutMs: 120000 })),
    );
    for (const r of runs) expect(r.stderr).toBe("");
    const ids = runs.map((r) => r.stdout.trim());
    expect(new Set(ids).size).toBe(50);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{64}$/);
    const db = new Database(join(t.dir, "tsd.db"), { readonly: true });
    expect((db.query("PRAGMA integrity_check").get() as { integrity_check: string }).integrity_check).toBe("ok");
    const names = (db.query("SELECT name FROM containers").all() as { name: string }[]).map((x) => x.name);
    db.close();
    expect(new Set(names).size).toBe(50);
    const ps = (await t.ok(["ps", "-q", "--no-trunc"])).trim().split("\n");
    expect(ps.sort()).toEqual([...ids].sort());
    const rm = await t.tsd(["rm", "-f", ...ids], { timeoutMs: 120000 });
    expect(rm.code).toBe(0);
    expect(await t.ok(["ps", "-aq"])).toBe("");
    expect([...snapshot()].filter((p) => !before.has(p))).toEqual([]);
    for (const id of ids) expect(cgroupDirs(id)).toEqual([]);
    expect(t.leaks()).toEqual([]);
  }, 180000);

  test("concurrent stop, start, restart and rm -f of one container leave it consistent", async () => {
    for (let round = 0; round < 3; round++) {
      const id = (await t.ok(["run", "-d", "--network", "none", "busybox", "sleep", "300"])).trim();
      const results = await Promise.all([
        t.tsd(["stop", "-t", "0", id]),
        t.tsd(["start", id]),
        t.tsd(["restart", "-t", "0", id]),
        t.tsd(["kill", id]),
        Bun.sleep(50 * round).then(() => t.tsd(["rm", "-f", id])),
      ]);
      // Every command ended (with success or one clear line), and the container is gone.
      for (const r of results) {
        if (r.code === 0) continue;
        expect(r.stderr).not.toBe("");
        for (const line of r.stderr.trim().split("\n")) expect(line).toMatch(/^tsd: /);
        if (process.env.TSD_TEST_VERBOSE) console.log(r.stderr.trim());
      }
      await until(async () => !(await t.ok(["ps", "-aq", "--no-trunc"])).includes(id) || (await t.tsd(["rm", "-f", id])).code === 0);
      expect(await t.ok(["ps", "-aq", "--no-trunc"])).not.toContain(id);
      await until(() => cgroupDirs(id).length === 0);
      expect(t.containerDirs()).not.toContain(id);
    }
    // A monitor that lost the race finishes its cleanup command within moments.
    await until(() => t.leaks().length === 0).catch(() => {});
    expect(t.leaks()).toEqual([]);
  });

  test("1 GB of output: the monitor's peak memory stays flat and the log stays bounded", async () => {
    const id = (await t.ok(["run", "-d", "--network", "none", "busybox", "sh", "-c", "head -c 1073741824 /dev/zero | tr '\\0' a; echo; echo done"])).trim();
    const monitor = row(id).monitor_pid;
    const hwm = () => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${monitor}/status`, "utf8"))?.[1] ?? NaN);
    let early = NaN;
    let last = NaN;
    await until(() => {
      try {
        const now = hwm();
        if (!Number.isNaN(now)) {
          last = now;
          if (Number.isNaN(early)) early = now;
        }
      } catch {
        return true; // exited
      }
      return !alive(monitor);
    }, 120000);
    expect((await t.ok(["wait", id], { timeoutMs: 120000 })).trim()).toBe("0");
    // Fixed buffers only: well under 1 MiB more than when it started, whatever went through.
    expect(last - early).toBeLessThan(1024);
    expect(last).toBeLessThan(4096);
    const dir = join(t.dir, "containers", id);
    const logBytes = readdirSync(dir).filter((f) => f.includes("-json.log")).reduce((n, f) => n + readFileSync(join(dir, f)).length, 0);
    expect(logBytes).toBeLessThanOrEqual(2 * 10 * 1024 * 1024);
    expect((await t.ok(["logs", "--tail", "1", id]))).toBe("done\n");
    console.log(`monitor VmHWM: ${early} kB at start, ${last} kB after 1 GB of output`);
    await t.ok(["rm", id]);
  }, 180000);
});

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    out.push(p);
    if (e.isDirectory()) out.push(...walk(p));
  }
  return out;
}
