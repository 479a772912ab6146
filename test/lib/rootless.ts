// A rootless test user (issue 13): made with useradd, its own /etc/subuid and /etc/subgid line
// (a range away from the rootful --userns=auto pool, 0x70000000 on) or none (a single-id user),
// dist/tsd run as it through setpriv with its XDG dirs under its own 0700 directory; and the end:
// its containers removed, its pause process and any process of its ids killed (reported), the
// user and its lines gone.
import { appendFileSync, chownSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TSD } from "./tsd";

export const SUB_SIZE = 65536;

/** A subordinate range of this run's own from `first` on: each test file passes its own `first`
 *  (rootless.test.ts 1 300 000 000, rootless-net.test.ts 1 600 000 000), so files and concurrent
 *  runs do not collide; all below the rootful auto pool (0x70000000 = 1 879 048 192). */
export function subStart(first: number): number {
  const start = first + (process.pid % 4000) * SUB_SIZE;
  if (start + SUB_SIZE > 0x70000000) throw new Error(`subordinate range ${start} reaches the rootful auto pool`);
  return start;
}

export interface RootlessUser {
  name: string;
  uid: number;
  gid: number;
  /** Its own, 0700: the root, XDG_DATA_HOME and XDG_RUNTIME_DIR below it. */
  dir: string;
  /** The first id of its subordinate range (SUB_SIZE ids); undefined: it has none. */
  start: number | undefined;
}

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function sh(argv: string[]): string {
  const r = Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${argv.join(" ")} exited ${r.exitCode}: ${r.stderr}`);
  return r.stdout.toString();
}

const subLine = (u: Pick<RootlessUser, "name" | "start">) => `${u.name}:${u.start}:${SUB_SIZE}`;

/** A user `name` with a directory under `base` and a subordinate range from `start` (none without). */
export function makeRootlessUser(name: string, base: string, start?: number): RootlessUser {
  // -K SUB_*_COUNT=0: useradd adds no ranges of its own; exactly one line is written here.
  sh(["useradd", "-m", "-s", "/bin/sh", "-K", "SUB_UID_COUNT=0", "-K", "SUB_GID_COUNT=0", name]);
  try {
    const uid = Number(sh(["id", "-u", name]).trim());
    const gid = Number(sh(["id", "-g", name]).trim());
    const dir = join(base, name);
    mkdirSync(dir, { mode: 0o700 });
    chownSync(dir, uid, gid);
    const u = { name, uid, gid, dir, start };
    if (start === undefined) return u;
    appendFileSync("/etc/subuid", `${subLine(u)}\n`);
    appendFileSync("/etc/subgid", `${subLine(u)}\n`);
    return u;
  } catch (e) {
    // Not returned, so no afterAll can remove it: gone here.
    dropRootlessUser({ name, start });
    throw e;
  }
}

export interface AsUserOptions {
  /** false: no --root (the store is $XDG_DATA_HOME/tsd); default: --root under its dir. */
  root?: boolean;
  /** A command that execs its arguments (setpriv …) in front: e.g. one that enters a cgroup first. */
  via?: string[];
  timeoutMs?: number;
  env?: Record<string, string>;
  /** The pid of tsd (setpriv execs it), as soon as it is spawned. */
  onSpawn?: (pid: number) => void;
}

/** dist/tsd as `u` (setpriv) with its own XDG dirs and (unless `root: false`) --root under its dir. */
export async function asUser(u: RootlessUser, args: string[], o: AsUserOptions = {}): Promise<Result> {
  const argv = [...(o.via ?? []), "setpriv", "--reuid", String(u.uid), "--regid", String(u.gid), "--init-groups", TSD, ...(o.root === false ? [] : ["--root", join(u.dir, "root")]), ...args];
  const env = { PATH: "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", HOME: `/home/${u.name}`, XDG_DATA_HOME: join(u.dir, "data"), XDG_RUNTIME_DIR: join(u.dir, "run"), ...o.env };
  const proc = Bun.spawn(argv, { cwd: u.dir, env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  o.onSpawn?.(proc.pid);
  const timer = setTimeout(() => proc.kill("SIGKILL"), o.timeoutMs ?? 60000);
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/** Live (not zombie) processes whose real uid is the user's or in its subordinate range. */
export function processesOf(u: RootlessUser): number[] {
  const pids: number[] = [];
  for (const p of readdirSync("/proc").filter((n) => /^\d+$/.test(n))) {
    try {
      const status = readFileSync(`/proc/${p}/status`, "utf8");
      const uid = Number(/^Uid:\s+(\d+)/m.exec(status)![1]);
      // A zombie is dead already, its reaping is init's (the monitor's parent exits first).
      if (/^State:\s+Z/m.test(status)) continue;
      if (uid === u.uid || (u.start !== undefined && uid >= u.start && uid < u.start + SUB_SIZE)) pids.push(Number(p));
    } catch {
      // gone
    }
  }
  return pids;
}

export function procInfo(pid: number): string {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const field = (k: string) => new RegExp(`^${k}:\\s+(.*)$`, "m").exec(status)?.[1] ?? "";
    return `${field("Name")} ${field("State")} ppid ${field("PPid")}`;
  } catch {
    return "gone";
  }
}

export function pausePid(u: RootlessUser): number | undefined {
  try {
    return Number(readFileSync(join(u.dir, "run", "tsd", "pause.pid"), "utf8").split(" ")[0]);
  } catch {
    return undefined;
  }
}

/** Removes exactly the line this user got (userdel may have taken it already). */
function removeLine(path: string, line: string): void {
  const text = readFileSync(path, "utf8");
  const kept = text.split("\n").filter((l) => l !== line);
  if (kept.length !== text.split("\n").length) writeFileSync(path, kept.join("\n"));
}

/** The user (userdel -r) and its /etc/subuid and /etc/subgid lines gone; either may be gone already. */
export function dropRootlessUser(u: Pick<RootlessUser, "name" | "start">): void {
  Bun.spawnSync(["userdel", "-r", u.name], { stderr: "ignore" });
  if (u.start !== undefined) for (const f of ["/etc/subuid", "/etc/subgid"]) removeLine(f, subLine(u));
}

/** Its containers removed; a mount of its root left in its namespace reported; its pause process killed. */
async function stopRootlessUser(u: RootlessUser, left: string[]): Promise<void> {
  const ids = (await asUser(u, ["ps", "-aq", "--no-trunc"])).stdout.split("\n").filter(Boolean);
  if (ids.length > 0) await asUser(u, ["rm", "-f", ...ids]);
  const pause = pausePid(u);
  // The namespace's own mount table: nothing of the user's root left mounted there.
  if (pause !== undefined) for (const line of readFileSync(`/proc/${pause}/mountinfo`, "utf8").split("\n")) if (line.includes(join(u.dir, "root"))) left.push(`mount in the namespace: ${line}`);
  // The pause process holds the namespace (and the mounts in it): gone with it.
  if (pause !== undefined && processesOf(u).includes(pause)) process.kill(pause, "SIGKILL");
}

/** Everything of the users gone, even when a step throws; returns what was left behind (to assert empty). */
export async function removeRootlessUsers(users: RootlessUser[]): Promise<string[]> {
  const left: string[] = [];
  try {
    for (const u of users) await stopRootlessUser(u, left);
    await Bun.sleep(200);
    for (const u of users) {
      for (const pid of processesOf(u)) {
        left.push(`process ${pid} of ${u.name}: ${procInfo(pid)}`);
        process.kill(pid, "SIGKILL");
      }
    }
  } finally {
    for (const u of users) dropRootlessUser(u);
  }
  return left;
}
