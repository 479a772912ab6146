// Health checks (Docker 20.10's HEALTHCHECK) with real containers: the container's own monitor
// runs each probe as a tenant of the container (its namespaces, cgroup, user, capabilities,
// seccomp), kills one that overruns its timeout (its whole process group), keeps the last five
// results, and the status shows in ps and inspect. Every wait polls inspect with a generous
// bound: nothing here asserts a speed.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync, readdirSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { TestRoot, busyboxRoot, closeRoot } from "../lib/tsd";
import { waitFor } from "../lib/cgroups";

setDefaultTimeout(60000);
const WAIT_MS = 30000;

let t: TestRoot;

interface Health {
  Status: string;
  FailingStreak: number;
  Log: { Start: string; End: string; ExitCode: number; Output: string }[];
}

async function health(name: string): Promise<Health | undefined> {
  const [c] = JSON.parse(await t.ok(["inspect", name])) as { State: { Health?: Health } }[];
  return c!.State.Health;
}

function waitHealth(name: string, ok: (h: Health) => boolean): Promise<Health> {
  return waitFor(`${name}'s health`, async () => {
    const h = await health(name);
    return h && ok(h) ? h : undefined;
  }, WAIT_MS);
}

/** Host processes whose command line is exactly `cmd` (a probe's). */
/** Processes running `cmd` in the pid namespace `ns` (another run of this file has its own). */
function hostProcesses(cmd: string, ns: string): number[] {
  const out: number[] = [];
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean).join(" ") === cmd && readlinkSync(`/proc/${pid}/ns/pid`) === ns) out.push(Number(pid));
    } catch {
      // Gone meanwhile.
    }
  }
  return out;
}

/** Zombies among `pid`'s children (the monitor reaps every probe's runner). */
function zombieChildren(pid: number): number[] {
  const out: number[] = [];
  for (const p of readdirSync("/proc").filter((x) => /^\d+$/.test(x))) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[1]) === pid && fields[0] === "Z") out.push(Number(p));
    } catch {
      // Gone meanwhile.
    }
  }
  return out;
}

/** Zombies under the monitor that stay: one reaped as its SIGCHLD is read is no leak. */
async function lastingZombies(pid: number): Promise<number[]> {
  const first = zombieChildren(pid);
  await Bun.sleep(300);
  const again = zombieChildren(pid);
  return first.filter((p) => again.includes(p));
}

/** Zombies in the container whose parent is its init (which never reaps): the probes' orphans. */
async function orphanZombies(name: string): Promise<string[]> {
  const ps = await t.ok(["exec", name, "ps", "-o", "stat,ppid,args"]);
  return ps.split("\n").filter((l) => /^Z\s+1\s/.test(l));
}

async function monitorPid(name: string): Promise<number> {
  const init = Number((await t.ok(["inspect", "-f", "{{.State.Pid}}", name])).trim());
  const stat = readFileSync(`/proc/${init}/stat`, "utf8");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
}

const run = (args: string[]) => t.ok(["run", "-d", "--network", "none", ...args]);

beforeAll(async () => {
  t = await busyboxRoot("health", `hc${process.pid}b1`, `10.236.${process.pid % 250}.0/24`);
}, 120000);

afterAll(async () => {
  expect(await closeRoot(t)).toEqual([]);
});

describe("health checks", () => {
  test("a passing probe: starting, then healthy, shown in ps and inspect", async () => {
    await run(["--name", "ok", "--health-cmd", "echo hello", "--health-interval", "200ms", "busybox", "sleep", "3000"]);
    const h = await waitHealth("ok", (x) => x.Status === "healthy");
    expect(h.FailingStreak).toBe(0);
    expect(h.Log.length).toBeGreaterThanOrEqual(1);
    expect(h.Log[0]).toMatchObject({ ExitCode: 0, Output: "hello\n" });
    expect(Date.parse(h.Log[0]!.End)).toBeGreaterThanOrEqual(Date.parse(h.Log[0]!.Start));
    expect(await t.ok(["ps", "--format", "{{.Status}}", "--filter", "name=^/ok$"])).toMatch(/^Up .* \(healthy\)\n$/);
    expect(await t.ok(["ps", "-q", "--filter", "health=healthy"])).not.toBe("");
    const config = JSON.parse(await t.ok(["inspect", "-f", "{{json .Config.Healthcheck}}", "ok"]));
    expect(config).toEqual({ Test: ["CMD-SHELL", "echo hello"], Interval: 200e6, Timeout: 0, StartPeriod: 0, Retries: 0 });
    // The log keeps the last five results.
    await waitHealth("ok", (x) => x.Log.length === 5);
    await Bun.sleep(600);
    expect((await health("ok"))!.Log.length).toBe(5);

    // Not yet probed (the first probe comes one interval after the start): "health: starting".
    await run(["--name", "later", "--health-cmd", "true", "--health-interval", "1h", "busybox", "sleep", "3000"]);
    expect(await health("later")).toEqual({ Status: "starting", FailingStreak: 0, Log: [] });
    expect(await t.ok(["ps", "--format", "{{.Status}}", "--filter", "name=^/later$"])).toMatch(/^Up .* \(health: starting\)\n$/);
    expect((await t.ok(["ps", "--format", "{{.Names}}", "--filter", "health=starting"])).trim()).toBe("later");
    await t.ok(["rm", "-f", "later"]);
  });

  test("the probe is a tenant of the container: its user, namespaces, cgroup, capabilities, seccomp", async () => {
    const probe = "id -u; grep -E '^(CapEff|NoNewPrivs|Seccomp):' /proc/self/status; for n in pid mnt net uts ipc; do readlink /proc/self/ns/$n; done; cat /proc/self/cgroup; pwd";
    await run(["--name", "tenant", "-u", "1000:1000", "-w", "/tmp", "--health-cmd", probe, "--health-interval", "200ms", "busybox", "sleep", "3000"]);
    const h = await waitHealth("tenant", (x) => x.Log.length > 0);
    const viaExec = await t.ok(["exec", "tenant", "sh", "-c", probe]);
    expect(h.Log[0]!.Output).toBe(viaExec);
    expect(viaExec).toStartWith("1000\n");
    expect(viaExec).toContain("/tmp\n");
    // Not the host's namespaces.
    expect(viaExec).not.toContain(`${readlinkSync("/proc/self/ns/pid")}\n`);
    expect(viaExec).not.toContain(`${readlinkSync("/proc/self/ns/mnt")}\n`);
    await t.ok(["rm", "-f", "tenant"]);
  });

  test("a failing probe: unhealthy after --health-retries failures, with the streak and the output", async () => {
    await run(["--name", "bad", "--health-cmd", "echo broken >&2; exit 3", "--health-interval", "200ms", "--health-retries", "2", "busybox", "sleep", "3000"]);
    const h = await waitHealth("bad", (x) => x.Status === "unhealthy");
    expect(h.FailingStreak).toBeGreaterThanOrEqual(2);
    // It became unhealthy at the second failure, not before.
    expect(h.Log.length).toBeGreaterThanOrEqual(2);
    expect(h.Log[0]).toMatchObject({ ExitCode: 3, Output: "broken\n" });
    expect(await t.ok(["ps", "--format", "{{.Status}}", "--filter", "name=^/bad$"])).toMatch(/\(unhealthy\)\n$/);
    expect((await t.ok(["ps", "--format", "{{.Names}}", "--filter", "health=unhealthy"])).trim()).toBe("bad");
    // Output is kept to 4096 bytes, then "...".
    await run(["--name", "loud", "--health-cmd", "yes | head -c 10000; exit 1", "--health-interval", "200ms", "busybox", "sleep", "3000"]);
    const loud = await waitHealth("loud", (x) => x.Log.length > 0);
    expect(loud.Log[0]!.Output).toBe("y\n".repeat(2048) + "...");
    await t.ok(["rm", "-f", "bad", "loud"]);
  });

  test("a probe past its timeout is killed with what it started; no probe or zombie is left", async () => {
    const monitorCmd = "sleep 7777";
    await run(["--name", "hang", "--health-cmd", `${monitorCmd}; true`, "--health-timeout", "300ms", "--health-interval", "200ms", "--health-retries", "1", "busybox", "sleep", "3000"]);
    const h = await waitHealth("hang", (x) => x.Status === "unhealthy" && x.Log.length >= 3);
    expect(h.Log[0]).toMatchObject({ ExitCode: -1, Output: "Health check exceeded timeout (300ms)" });
    // A probe runs for 300 ms of every 500: at most one (its shell and sleep) at any time.
    const monitor = await monitorPid("hang");
    const ns = readlinkSync(`/proc/${(await t.ok(["inspect", "-f", "{{.State.Pid}}", "hang"])).trim()}/ns/pid`);
    for (let i = 0; i < 10; i++) {
      expect(hostProcesses(monitorCmd, ns).length).toBeLessThanOrEqual(1);
      const inside = await t.ok(["exec", "hang", "ps", "-o", "stat,args"]);
      expect(inside.split("\n").filter((l) => / sleep 7777$/.test(l)).length).toBeLessThanOrEqual(1);
      expect(await orphanZombies("hang")).toEqual([]);
      expect(await lastingZombies(monitor)).toEqual([]);
      await Bun.sleep(150);
    }
    await t.ok(["rm", "-f", "hang"]);
    await waitFor("the probes to be gone", () => hostProcesses(monitorCmd, ns).length === 0, WAIT_MS);
  });

  test("failures within --health-start-period do not count", async () => {
    await run(["--name", "slow", "--health-cmd", "exit 1", "--health-interval", "200ms", "--health-retries", "1", "--health-start-period", "1h", "busybox", "sleep", "3000"]);
    const h = await waitHealth("slow", (x) => x.Log.length >= 3);
    expect(h.Status).toBe("starting");
    expect(h.FailingStreak).toBe(0);
    await t.ok(["rm", "-f", "slow"]);
  });

  test("many probes leave no zombie in the container nor under the monitor", async () => {
    await run(["--name", "many", "--health-cmd", "true", "--health-interval", "50ms", "busybox", "sleep", "3000"]);
    await waitHealth("many", (x) => x.Status === "healthy");
    // About 40 probes more (the log shows only the last five: time them by their Start).
    const first = Date.parse((await health("many"))!.Log.at(-1)!.Start);
    await waitHealth("many", (x) => Date.parse(x.Log.at(-1)!.Start) > first + 2000);
    expect(await orphanZombies("many")).toEqual([]);
    expect(await lastingZombies(await monitorPid("many"))).toEqual([]);
    await t.ok(["rm", "-f", "many"]);
  });

  test("the image's HEALTHCHECK (commit --change), flags over its fields, --no-healthcheck", async () => {
    await run(["--name", "base", "busybox", "sleep", "3000"]);
    await t.ok(["commit", "--change", 'HEALTHCHECK --interval=200ms --retries=4 CMD ["cat", "/etc/hostname"]', "base", "hc:1"]);
    await t.ok(["rm", "-f", "base"]);
    const imageHc = JSON.parse(await t.ok(["image", "inspect", "-f", "{{json .Config.Healthcheck}}", "hc:1"]));
    expect(imageHc).toEqual({ Test: ["CMD", "cat", "/etc/hostname"], Interval: 200e6, Timeout: 0, StartPeriod: 0, Retries: 4 });

    const id = (await run(["--name", "fromimage", "hc:1", "sleep", "3000"])).trim();
    const h = await waitHealth("fromimage", (x) => x.Status === "healthy");
    expect(h.Log[0]!.Output).toBe(`${id.slice(0, 12)}\n`);
    await run(["--name", "merged", "--health-retries", "9", "hc:1", "sleep", "3000"]);
    expect(JSON.parse(await t.ok(["inspect", "-f", "{{json .Config.Healthcheck}}", "merged"]))).toEqual({ ...imageHc, Retries: 9 });

    await run(["--name", "nocheck", "--no-healthcheck", "hc:1", "sleep", "3000"]);
    // The daemon's merge fills NONE's other fields from the image, as Docker's does.
    expect(JSON.parse(await t.ok(["inspect", "-f", "{{json .Config.Healthcheck}}", "nocheck"]))).toEqual({ ...imageHc, Test: ["NONE"] });
    await Bun.sleep(700);
    expect(await health("nocheck")).toBeUndefined();
    expect(await t.ok(["ps", "--format", "{{.Status}}", "--filter", "name=^/nocheck$"])).not.toContain("(");
    expect((await t.ok(["ps", "--format", "{{.Names}}", "--filter", "health=none"])).trim().split("\n")).toContain("nocheck");

    // A commit keeps the container's (merged) health check.
    await t.ok(["commit", "merged", "hc:2"]);
    expect(JSON.parse(await t.ok(["image", "inspect", "-f", "{{json .Config.Healthcheck}}", "hc:2"]))).toEqual({ ...imageHc, Retries: 9 });
    await t.ok(["rm", "-f", "fromimage", "merged", "nocheck"]);
  });

  test("a probe that cannot be exec'd is a failure with the reason (exit code -1)", async () => {
    await run(["--name", "base2", "busybox", "sleep", "3000"]);
    await t.ok(["commit", "--change", 'HEALTHCHECK --interval=200ms --retries=1 CMD ["/nope"]', "base2", "nope:1"]);
    await t.ok(["rm", "-f", "base2"]);
    await run(["--name", "nope", "nope:1", "sleep", "3000"]);
    const h = await waitHealth("nope", (x) => x.Status === "unhealthy");
    expect(h.Log[0]!.ExitCode).toBe(-1);
    expect(h.Log[0]!.Output).toContain('"/nope"');
    await t.ok(["rm", "-f", "nope"]);
  });

  test("--no-healthcheck with --health-cmd is refused", async () => {
    const r = await t.tsd(["run", "--rm", "--network", "none", "--no-healthcheck", "--health-cmd", "true", "busybox", "true"]);
    expect(r.code).toBe(125);
    expect(r.stderr).toContain("--no-healthcheck conflicts with --health-* options");
    const neg = await t.tsd(["run", "--rm", "--network", "none", "--health-interval", "-1s", "busybox", "true"]);
    expect(neg.code).toBe(125);
    expect(neg.stderr).toContain("--health-interval cannot be negative");
  });

  test("a restarted container starts over at starting", async () => {
    await run(["--name", "again", "--health-cmd", "true", "--health-interval", "3s", "busybox", "sleep", "3000"]);
    await waitHealth("again", (x) => x.Status === "healthy");
    await t.ok(["restart", "-t", "0", "again"]);
    // The first probe of the new start is an interval away.
    expect(await health("again")).toEqual({ Status: "starting", FailingStreak: 0, Log: [] });
    await waitHealth("again", (x) => x.Status === "healthy");
    await t.ok(["rm", "-f", "again"]);
  });
});
