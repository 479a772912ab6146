// Drives the built dist/tsd as a user would, each test file with its own --root on tmpfs
// (DESIGN.md: the root disk is slow at create-after-delete), and checks nothing is left.
import { mkdtempSync, readFileSync, readdirSync, rmSync, existsSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

export const TSD = resolve(import.meta.dir, "../../dist/tsd");

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOpts {
  stdin?: string | Uint8Array;
  env?: Record<string, string>;
  timeoutMs?: number;
  /** The working directory tsd starts in (the test's own by default). */
  cwd?: string;
}

let roots = 0;

/**
 * A bridge name and subnet of this root's own for the default "bridge" network (tsd0 and
 * 10.89.0.0/16 are the host's): two roots alive at once — another file's, another checkout's
 * — must never share a bridge that one of them takes down. 10.160-191.N.0/24 by pid and count.
 */
export function ownBridge(): { bridge: string; subnet: string } {
  const n = roots++;
  return { bridge: `tt${process.pid.toString(36)}x${n.toString(36)}`.slice(0, 15), subnet: `10.${160 + (process.pid % 32)}.${n % 256}.0/24` };
}

export class TestRoot {
  readonly dir: string;

  /** `parent`: where the root goes (a test's own small filesystem); /dev/shm by default.
   *  The root gets its own bridge name and subnet (network.json; a test may write its own). */
  constructor(label: string, parent = "/dev/shm") {
    this.dir = mkdtempSync(join(parent, `tsd-e2e-${label}-`));
    writeFileSync(join(this.dir, "network.json"), JSON.stringify(ownBridge()));
  }

  /** Runs `tsd --root DIR ARGS…` to completion. */
  async tsd(args: string[], o: RunOpts = {}): Promise<Result> {
    const proc = Bun.spawn([TSD, "--root", this.dir, ...args], {
      stdin: o.stdin === undefined ? "ignore" : new Blob([o.stdin]),
      stdout: "pipe",
      stderr: "pipe",
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...o.env },
      cwd: o.cwd,
    });
    const timer = setTimeout(() => proc.kill("SIGKILL"), o.timeoutMs ?? 30000);
    const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    clearTimeout(timer);
    return { code, stdout, stderr };
  }

  /** Like tsd() but the command must succeed; returns stdout. */
  async ok(args: string[], o: RunOpts = {}): Promise<string> {
    const r = await this.tsd(args, o);
    if (r.code !== 0) throw new Error(`tsd ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
    return r.stdout;
  }

  /** What this root left behind: mounts under it, live processes started from it, bundles. */
  leaks(): string[] {
    const out: string[] = [];
    for (const line of readFileSync("/proc/self/mountinfo", "utf8").split("\n")) {
      if (line.includes(this.dir)) out.push(`mount: ${line}`);
    }
    for (const { pid, cmdline } of processes()) {
      const cmd = cmdline.replaceAll("\0", " ");
      if (cmd.includes(this.dir) && pid !== process.pid) out.push(`process ${pid}: ${cmd}`);
    }
    return out;
  }

  containerDirs(): string[] {
    const d = join(this.dir, "containers");
    return existsSync(d) ? readdirSync(d) : [];
  }

  /** Kills what a failed test left, takes down the root's bridges and NAT, then removes the root. */
  async destroy(): Promise<void> {
    // Containers first, through tsd itself: rm -f kills each one through its cgroup (an
    // init does not carry the root in its command line, so the sweep below cannot find it),
    // then releases its network and removes its group.
    if (existsSync(join(this.dir, "tsd.db"))) {
      const ids = (await this.tsd(["ps", "-aq", "--no-trunc"])).stdout.split("\n").filter(Boolean);
      if (ids.length > 0) await this.tsd(["rm", "-f", ...ids], { timeoutMs: 60000 });
    }
    for (const l of this.leaks()) {
      const m = /^process (\d+):/.exec(l);
      if (m) {
        try {
          process.kill(Number(m[1]), "SIGKILL");
        } catch {
          // Gone.
        }
      }
    }
    await Bun.sleep(50);
    // Bridges stay while their network exists (as docker0): a root going away takes its own
    // down (network prune also removes what a failed test left of containers' networking).
    if (existsSync(join(this.dir, "tsd.db"))) await this.tsd(["network", "prune", "-f"]);
    // Whatever is still mounted under the root (a test that failed mid-way) would make the
    // removal fail and stay behind: detach it, innermost first.
    const mounts = readFileSync("/proc/self/mountinfo", "utf8").split("\n").map((l) => l.split(" ")[4] ?? "").filter((m) => m.startsWith(this.dir + "/"));
    for (const m of mounts.sort().reverse()) Bun.spawnSync(["umount", "-l", m]);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Every process on the host with its raw /proc/PID/cmdline (NUL-separated arguments). */
export function processes(): { pid: number; cmdline: string }[] {
  const out: { pid: number; cmdline: string }[] = [];
  for (const p of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      out.push({ pid: Number(p), cmdline: readFileSync(`/proc/${p}/cmdline`, "utf8") });
    } catch {
      // Exited while we looked.
    }
  }
  return out;
}

export interface Pipeline {
  /** Every stage's exit status (PIPESTATUS of the script's last pipeline). */
  status: number[];
  stdout: string;
  stderr: string;
}

/**
 * Runs a bash script in which `tsd` is dist/tsd with `--root root`, each run under
 * `timeout -s KILL limitSec` (a hung stage cannot hang the test); returns the last pipeline's
 * PIPESTATUS, stdout and stderr.
 */
export async function pipeline(script: string, root: string, o: { limitSec?: number; cwd?: string } = {}): Promise<Pipeline> {
  const tsd = `tsd() { timeout -s KILL ${o.limitSec ?? 60} ${TSD} --root ${root} "$@"; }`;
  const proc = Bun.spawn(["bash", "-c", `${tsd}\n${script}\necho "@@status=\${PIPESTATUS[*]}"`], {
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
    ...(o.cwd ? { cwd: o.cwd } : {}),
  });
  const [out, stderr] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  const m = /@@status=([\d ]+)\n$/.exec(out);
  if (!m) throw new Error(`no status from: ${script}\n${stderr}`);
  return { status: m[1]!.trim().split(" ").map(Number), stderr, stdout: out.slice(0, m.index) };
}

/** A root of its own bridge name and subnet (network.json: another checkout may run the same
 *  file at once) with the busybox test image loaded. */
export async function busyboxRoot(label: string, bridge: string, subnet: string): Promise<TestRoot> {
  const { testImages } = await import("./fixtures");
  const images = await testImages();
  const t = new TestRoot(label);
  writeFileSync(join(t.dir, "network.json"), JSON.stringify({ bridge, subnet }));
  await t.ok(["load", "-i", images.busyboxDocker]);
  return t;
}

/** Removes the root's containers, then destroys it; returns what it had left behind (mounts,
 *  processes) once its containers were gone, for the caller to assert empty. */
export async function closeRoot(t: TestRoot): Promise<string[]> {
  const ids = (await t.tsd(["ps", "-aq", "--no-trunc"])).stdout.split("\n").filter(Boolean);
  if (ids.length) await t.tsd(["rm", "-f", ...ids]);
  const leaks = t.leaks();
  await t.destroy();
  return leaks;
}
