// `exec [--process FILE | args…] [--detach] [--tty] [--console-socket S] [--pid-file P] … ID`:
// a new process in a running container, through `tsd-monitor --exec` (zig/monitor/exec.zig:
// setns needs a single-threaded caller). The caller supervises the process (containerd's shim,
// conmon, CRI-O), so its stdio is the caller's own (`--inherit-stdio`), a terminal goes to the
// console socket, and with --detach the helper exits once the process runs: the caller's
// subreaper reaps it. A foreground exec waits and exits with the process's status; with -t and
// no console socket, the pty is relayed to our stdio as `tsd exec -t` does.
import type { Subprocess } from "bun";
import { parseReport } from "../native/report";
import { existsSync, fstatSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join, normalize } from "node:path";
import { hostLayout, v1WithNamed } from "../cgroup";
import { TsdError } from "../errors";
import { monitorExecutable } from "../native/embedded";
import { bool, EXEC_FAILED, FlagError, idArg, list, parseFlags, str, uint, type FlagSpec, type Parsed } from "./flags";
import type { RuntimeGlobals } from "./globals";
import { FORWARDED } from "./signals";
import { containerDir, readRecord, statusOf, type RuntimeRecord } from "./state-dir";

export const EXEC_FLAGS: FlagSpec = {
  "console-socket": { kind: "string" },
  cwd: { kind: "string" },
  env: { kind: "list", aliases: ["e"] },
  tty: { kind: "bool", aliases: ["t"] },
  user: { kind: "string", aliases: ["u"] },
  "additional-gids": { kind: "list", aliases: ["g"] },
  process: { kind: "string", aliases: ["p"] },
  detach: { kind: "bool", aliases: ["d"] },
  "pid-file": { kind: "string" },
  "process-label": { kind: "string" },
  apparmor: { kind: "string" },
  "no-new-privs": { kind: "bool" },
  cap: { kind: "list", aliases: ["c"] },
  "preserve-fds": { kind: "string" },
  cgroup: { kind: "list" },
  "ignore-paused": { kind: "bool" },
};

export interface ProcessSpec {
  terminal?: boolean;
  user: { uid: number; gid: number; additionalGids?: number[]; [k: string]: unknown };
  args: string[];
  env?: string[];
  cwd: string;
  capabilities?: Record<string, string[]>;
  noNewPrivileges?: boolean;
  [k: string]: unknown;
}

function numericId(what: string, v: string): number {
  if (!/^\d+$/.test(v)) throw new FlagError(`exec: ${what} must be numeric, not "${v}" (runc's -u uid[:gid])`);
  return Number(v);
}

/** The process from runc's flags on top of the container's own (runc's getProcess). */
export function processFromFlags(base: ProcessSpec, p: Parsed, args: string[]): ProcessSpec {
  const out: ProcessSpec = { ...base, args, terminal: bool(p, "tty"), env: [...(base.env ?? []), ...list(p, "env")], user: { ...base.user } };
  const cwd = str(p, "cwd");
  if (cwd !== undefined) out.cwd = cwd;
  if (bool(p, "no-new-privs")) out.noNewPrivileges = true;
  const caps = list(p, "cap");
  if (caps.length > 0) {
    const c = { ...(base.capabilities ?? {}) };
    for (const set of ["bounding", "effective", "permitted"]) c[set] = [...(c[set] ?? []), ...caps];
    out.capabilities = c;
  }
  const user = str(p, "user");
  if (user !== undefined) {
    const [uid, gid] = user.split(":", 2);
    out.user.uid = numericId("the uid", uid ?? "");
    if (gid !== undefined) out.user.gid = numericId("the gid", gid);
  }
  const gids = list(p, "additional-gids");
  if (gids.length > 0) out.user.additionalGids = gids.map((g) => numericId("an additional gid", g));
  return out;
}

/** The exec'd process: --process FILE (the whole process, as containerd writes it) or flags. */
export function execProcess(base: ProcessSpec, p: Parsed): ProcessSpec {
  const file = str(p, "process");
  if (file === undefined) {
    const args = p.args.slice(1);
    if (args.length === 0) throw new FlagError("exec: args cannot be empty (give a command after the container id, or --process FILE)");
    return processFromFlags(base, p, args);
  }
  let proc: ProcessSpec;
  try {
    proc = JSON.parse(readFileSync(file, "utf8")) as ProcessSpec;
  } catch (e) {
    throw new TsdError(`exec: cannot read the process in ${file}: ${(e as Error).message}`, 1);
  }
  if (!Array.isArray(proc.args) || proc.args.length === 0) throw new TsdError(`exec: ${file}: process.args cannot be empty`, 1);
  return proc;
}

/** What runc refuses in the flags, before anything runs. */
export function checkExecFlags(p: Parsed, terminal: boolean): void {
  const socket = str(p, "console-socket");
  if (bool(p, "detach") && terminal && socket === undefined) throw new FlagError("cannot allocate tty if tsd-runc will detach without setting console socket");
  if (socket !== undefined && !terminal) throw new FlagError("cannot use console socket if tsd-runc will not allocate tty");
  if ((uint(p, "preserve-fds") ?? 0) > MAX_PRESERVE_FDS) throw new FlagError(`exec: --preserve-fds: at most ${MAX_PRESERVE_FDS}`);
  for (const f of ["process-label", "apparmor"]) {
    if (str(p, f)) throw new FlagError(`exec: --${f} is not supported by tsd (no SELinux/AppArmor support): remove it`);
  }
}

/** One `--cgroup [CONTROLLER[,CONTROLLER…]:]PATH`: a sub-group of the container's, for all of
 *  its hierarchies or those of the named controllers (runc's). */
export interface SubCgroup {
  controllers: string[];
  path: string;
}

export function parseSubCgroup(v: string): SubCgroup {
  const colon = v.indexOf(":");
  const controllers = colon < 0 ? [] : v.slice(0, colon).split(",").filter((c) => c !== "");
  const raw = colon < 0 ? v : v.slice(colon + 1);
  const path = normalize(`/${raw}`).replace(/^\/+|\/+$/g, "");
  if (raw.split("/").includes("..") || path.startsWith("..")) throw new FlagError(`exec: --cgroup: ${raw} is not a sub cgroup path`);
  return { controllers, path };
}

/** The cgroup.procs files the exec'd process joins: the container's groups, or the sub-groups
 *  --cgroup names in them. `controllersOf(dir)`: the controllers of the hierarchy of `dir`. */
export function execCgroupProcs(dirs: readonly string[], subs: readonly SubCgroup[], controllersOf: (dir: string) => string[]): string[] {
  const known = new Set(dirs.flatMap(controllersOf));
  for (const s of subs) for (const c of s.controllers) if (!known.has(c)) throw new FlagError(`exec: --cgroup: unknown controller ${c}`);
  return dirs.map((dir) => {
    const mine = controllersOf(dir);
    // The last --cgroup that names one of this hierarchy's controllers, else one naming none.
    const sub = [...subs].reverse().find((s) => s.controllers.some((c) => mine.includes(c))) ?? [...subs].reverse().find((s) => s.controllers.length === 0);
    return join(dir, sub?.path ?? "", "cgroup.procs");
  });
}

/** Each --cgroup's file exists: runc's error otherwise (the helper would fail less clearly). */
function checkProcsFiles(files: readonly string[]): void {
  for (const f of files) {
    if (!existsSync(f)) throw new TsdError(`cannot join the container's cgroup: adding pid to ${f}: no such file or directory`, 1);
  }
}

function hierarchyControllers(dir: string): string[] {
  for (const h of v1WithNamed(hostLayout().hierarchies)) {
    if (dir === h.mountpoint || dir.startsWith(`${h.mountpoint}/`)) return h.controllers;
  }
  return [];
}

/** The helper's config: the bundle's config.json with this process, the recorded rootfs, and
 *  the cgroup.procs paths the helper joins (zig/CONTRACT.md io.tsd.cgroup.procs). */
function writeExecConfig(g: RuntimeGlobals, rec: RuntimeRecord, proc: ProcessSpec, subs: readonly SubCgroup[]): string {
  let config: Record<string, unknown>;
  try {
    config = JSON.parse(readFileSync(join(rec.bundle, "config.json"), "utf8")) as Record<string, unknown>;
  } catch (e) {
    throw new TsdError(`exec: cannot read the bundle's config.json in ${rec.bundle}: ${(e as Error).message}`, 1);
  }
  const annotations = { ...(config.annotations as Record<string, string> | undefined) };
  const files = execCgroupProcs(rec.cgroup?.paths ?? [], subs, hierarchyControllers);
  if (subs.length > 0) checkProcsFiles(files);
  const procs = files.join(":");
  if (procs) annotations["io.tsd.cgroup.procs"] = procs;
  else delete annotations["io.tsd.cgroup.procs"];
  const root = { ...(config.root as Record<string, unknown> | undefined), path: rec.rootfs };
  const path = join(containerDir(g.root, rec.id), `exec-${crypto.randomUUID()}.json`);
  writeFileSync(path, JSON.stringify({ ...config, process: proc, root, annotations }), { mode: 0o600 });
  return path;
}

/** runc writes the pid file atomically (a temporary file in the same directory, renamed). */
export function writePidFile(path: string, pid: number): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}`);
  writeFileSync(tmp, String(pid), { mode: 0o644 });
  renameSync(tmp, path);
}

const MAX_PRESERVE_FDS = 1024;

/** --preserve-fds N: our fds 3..3+N-1, which must be open (a clear error, not the spawn's). */
function preservedFds(p: Parsed): number[] {
  const fds = Array.from({ length: uint(p, "preserve-fds") ?? 0 }, (_, i) => 3 + i);
  for (const fd of fds) {
    try {
      fstatSync(fd);
    } catch {
      throw new TsdError(`exec: --preserve-fds: fd ${fd} is not open`, 1);
    }
  }
  return fds;
}

function helperFlags(p: Parsed, terminal: boolean): string[] {
  const socket = str(p, "console-socket");
  const n = uint(p, "preserve-fds") ?? 0;
  const out = [...(bool(p, "detach") ? ["--detach"] : []), ...(n > 0 ? ["--preserve-fds", String(n)] : [])];
  if (socket !== undefined) return [...out, "--console-socket", socket];
  // A terminal without a socket (foreground only): relayed, our stdin included.
  return terminal ? [...out, "--stdin"] : [...out, "--inherit-stdio"];
}

export async function execCommand(g: RuntimeGlobals, argv: string[]): Promise<number> {
  const p = parseFlags(argv, EXEC_FLAGS, false);
  const id = idArg("exec", p.args);
  try {
    return await execIn(g, p, id);
  } catch (e) {
    // Flag errors are 1; anything later is runc's "exec failed: …", 255.
    if (e instanceof FlagError) throw e;
    throw new TsdError(`exec failed: ${e instanceof Error ? e.message : String(e)}`, EXEC_FAILED);
  }
}

async function execIn(g: RuntimeGlobals, p: Parsed, id: string): Promise<number> {
  const rec = readRecord(g.root, id);
  const status = statusOf(g.root, rec);
  // runc's: a created container can be exec'd into (its namespaces exist), a stopped one not.
  if (status === "stopped") throw new TsdError("cannot exec in a container that is not running: container not running", 1);
  if (status === "paused" && !bool(p, "ignore-paused")) throw new TsdError("cannot exec in a paused container (resume it, or --ignore-paused)", 1);
  const base = readBundleProcess(rec);
  const proc = execProcess(base, p);
  checkExecFlags(p, proc.terminal === true);
  const config = writeExecConfig(g, rec, proc, list(p, "cgroup").map(parseSubCgroup));
  return await runHelper(rec, config, helperFlags(p, proc.terminal === true), p);
}

function readBundleProcess(rec: RuntimeRecord): ProcessSpec {
  try {
    const spec = JSON.parse(readFileSync(join(rec.bundle, "config.json"), "utf8")) as { process?: ProcessSpec };
    return spec.process ?? { user: { uid: 0, gid: 0 }, args: [], cwd: "/" };
  } catch (e) {
    throw new TsdError(`exec: cannot read the bundle's config.json in ${rec.bundle}: ${(e as Error).message}`, 1);
  }
}


/** Runs the helper with our stdio; after its report the pid file, then (foreground) its exit. */
async function runHelper(rec: RuntimeRecord, config: string, flags: string[], p: Parsed): Promise<number> {
  const exe = await monitorExecutable();
  let helper: Subprocess;
  try {
    helper = Bun.spawn([exe.path, "--exec", "--pid", String(rec.pid), "--pid-start", rec.pidStart, "--config", config, ...flags], {
      argv0: exe.argv0,
      // The helper's fd 3 is its report pipe; the preserved fds follow from 4.
      stdio: ["inherit", "inherit", "inherit", "pipe", ...preservedFds(p)],
      env: { PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin" },
    });
  } catch (e) {
    exe.close();
    throw e;
  }
  const forward = FORWARDED.map((sig) => [sig, () => forwardSignal(helper, sig)] as const);
  for (const [sig, h] of forward) process.on(sig, h);
  try {
    const pid = await awaitReport(helper).finally(() => exe.close());
    const pidFile = str(p, "pid-file");
    if (pidFile !== undefined) writePidFile(pidFile, pid);
    return await helper.exited;
  } finally {
    for (const [sig, h] of forward) process.off(sig, h);
    // The helper unlinks it once read; not when it failed before.
    rmSync(config, { force: true });
  }
}

function forwardSignal(helper: Subprocess, sig: NodeJS.Signals): void {
  try {
    helper.kill(sig);
  } catch {
    // Gone: its exit is handled by the caller.
  }
}

/** The helper's one report line on fd 3: the process's host pid, or its error thrown. */
async function awaitReport(helper: Subprocess): Promise<number> {
  const reader = Bun.file(helper.stdio[3] as number).stream().getReader();
  let text = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    text += Buffer.from(value).toString("utf8");
    if (text.includes("\n") || text.length > 65536) break;
  }
  reader.cancel().catch(() => {});
  const r = parseReport(text.split("\n")[0] ?? "");
  if (r?.kind === "started") return r.pid;
  if (r?.kind === "error") throw new TsdError(r.message, 1);
  await helper.exited;
  throw new TsdError(`exec failed: the helper ended before reporting (exit ${helper.exitCode ?? helper.signalCode})`, 1);
}
