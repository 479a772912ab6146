// `create [--bundle|-b B] [--pid-file P] [--console-socket S] [--no-pivot] [--no-new-keyring]
// [--preserve-fds N] ID` (RUNTIME.md "create / start"): the container's cgroup from the bundle's
// own linux.resources + cgroupsPath (src/cgroup, the bundle is not rewritten), its state
// directory (exec.fifo, hook-state, then state.json), and `tsd-monitor --create`, which clones
// the init, runs the prestart/createRuntime hooks, leaves the init blocked on the exec fifo,
// reports `started <pid>` and exits: the init is then the caller's subreaper's (containerd-shim,
// conmon). The init's stdio are our fds 0-2, the caller's fds 3..3+N-1 its fds 3.. (the monitor
// gets them from fd 4 on: its fd 3 is the report pipe). Any failure leaves nothing: no group,
// no state directory, no process.
//
//   createCommand(g: RuntimeGlobals, argv: string[]): Promise<number>   runc's create → 0
//   createContainer(g, o: CreateOptions): Promise<Created>               create (and run's)
import { existsSync, fstatSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { Subprocess } from "bun";
import { TsdError } from "../errors";
import { createSpecCgroup, removeSpecCgroup, type SpecGroup } from "../cgroup";
import { monitorExecutable } from "../native/embedded";
import { mkfifo } from "../native/fifo";
import { parseReport } from "../native/report";
import { bool, exactArgs, parseFlags, str, uint, type FlagSpec, type Parsed } from "./flags";
import type { RuntimeGlobals } from "./globals";
import { logWarning } from "./log";
import { checkId, containerDir, FIFO_FILE, HOOK_STATE_FILE, procStat, STATE_FILE, withLock, writeRecord, type RuntimeRecord } from "./state-dir";

export const CREATE_FLAGS: FlagSpec = {
  bundle: { kind: "string", aliases: ["b"] },
  "pid-file": { kind: "string" },
  "console-socket": { kind: "string" },
  "no-pivot": { kind: "bool" },
  "no-new-keyring": { kind: "bool" },
  "preserve-fds": { kind: "string" },
};

export interface CreateOptions {
  id: string;
  /** Absolute. */
  bundle: string;
  pidFile?: string;
  consoleSocket?: string;
  noPivot: boolean;
  noNewKeyring: boolean;
  preserveFds: number;
  /** `run` in the foreground: the monitor stays the init's parent and exits with its status. */
  wait?: boolean;
}

export interface Created {
  record: RuntimeRecord;
  /** Exited already, unless `wait`. */
  monitor: Subprocess;
}

/** The parts of a config.json create reads (the monitor parses the whole of it). */
export interface ForeignSpec {
  ociVersion?: string;
  root?: { path?: string };
  process?: { terminal?: boolean };
  annotations?: Record<string, string>;
  linux?: { cgroupsPath?: string; resources?: unknown };
}

/** create's and run's options from runc's flags (`p` parsed with CREATE_FLAGS). */
export function createOptions(p: Parsed, id: string): CreateOptions {
  checkId(id);
  const o: CreateOptions = {
    id,
    bundle: resolve(str(p, "bundle") ?? "."),
    noPivot: bool(p, "no-pivot"),
    noNewKeyring: bool(p, "no-new-keyring"),
    preserveFds: uint(p, "preserve-fds") ?? 0,
  };
  const pidFile = str(p, "pid-file");
  const socket = str(p, "console-socket");
  if (pidFile) o.pidFile = resolve(pidFile);
  if (socket) o.consoleSocket = resolve(socket);
  if (o.preserveFds > 1024) throw new TsdError(`--preserve-fds ${o.preserveFds}: at most 1024`, 1);
  return o;
}

export async function createCommand(g: RuntimeGlobals, argv: string[]): Promise<number> {
  const p = parseFlags(argv, CREATE_FLAGS);
  exactArgs("create", p.args, 1, "[--bundle B] [--pid-file P] [--console-socket S] <container-id>");
  await createContainer(g, createOptions(p, p.args[0]!));
  return 0;
}

export function readSpec(bundle: string): ForeignSpec {
  const path = join(bundle, "config.json");
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new TsdError(`cannot read the bundle's config.json: ${(e as Error).message}`, 1);
  }
  try {
    const spec = JSON.parse(text) as ForeignSpec;
    if (typeof spec !== "object" || spec === null || Array.isArray(spec)) throw new Error("not an object");
    return spec;
  } catch (e) {
    throw new TsdError(`${path}: invalid JSON: ${(e as Error).message}`, 1);
  }
}

/** cgroupsPath, or runc's default for a spec without one. */
export function cgroupsPathOf(spec: ForeignSpec, id: string, systemd: boolean): string {
  const path = spec.linux?.cgroupsPath;
  if (path) return path;
  return systemd ? `system.slice:tsd-runc:${id}` : `/${id}`;
}

/** The OCI state without status and pid, ending in a comma: the monitor appends them. */
export function hookStatePrefix(spec: ForeignSpec, id: string, bundle: string): string {
  const head = JSON.stringify({ ociVersion: spec.ociVersion ?? "1.0.2", id, bundle, annotations: spec.annotations ?? {} });
  return `${head.slice(0, -1)},`;
}

/** RFC3339 with nanoseconds, as runc's state has it. */
export function rfc3339Nanos(ms: number = Date.now(), subMs: bigint = process.hrtime.bigint() % 1_000_000n): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 23)}${subMs.toString().padStart(6, "0")}Z`;
}

/** Makes the container under its lock; on any failure everything made is undone. */
export async function createContainer(g: RuntimeGlobals, o: CreateOptions): Promise<Created> {
  const spec = readSpec(o.bundle);
  const dir = containerDir(g.root, o.id);
  return await withLock(g.root, o.id, async () => {
    if (existsSync(join(dir, STATE_FILE))) throw new TsdError(`container with id exists: ${o.id}`, 1);
    let cg: SpecGroup | undefined;
    let pid = 0;
    try {
      cg = createSpecCgroup(spec, cgroupsPathOf(spec, o.id, g.systemdCgroup));
      warnIfNotEmpty(g, cg.dirs);
      mkfifo(join(dir, FIFO_FILE), 0o600);
      writeFileSync(join(dir, HOOK_STATE_FILE), hookStatePrefix(spec, o.id, o.bundle), { mode: 0o600 });
      const started = await startMonitor(o, dir, cg.procs);
      pid = started.pid;
      const record = recordOf(g, o, spec, pid, cg);
      writeRecord(g.root, record);
      if (o.pidFile) writePidFile(o.pidFile, pid);
      return { record, monitor: started.monitor };
    } catch (e) {
      undo(dir, pid, cg);
      throw e;
    }
  });
}

/** runc's warning: a group that has processes already (another container's, a pod's). */
function warnIfNotEmpty(g: RuntimeGlobals, dirs: readonly string[]): void {
  const pids = new Set<string>();
  for (const dir of dirs) {
    try {
      for (const l of readFileSync(join(dir, "cgroup.procs"), "utf8").split("\n")) if (l) pids.add(l);
    } catch {
      // A hierarchy without the group: nothing in it.
    }
  }
  if (pids.size > 0) logWarning(g, `container's cgroup is not empty: ${pids.size} process(es) found`);
}

/** The record of a container whose init is `pid` (create's, and restore's of a restored init). */
export function recordOf(g: RuntimeGlobals, o: { id: string; bundle: string }, spec: ForeignSpec, pid: number, cg: SpecGroup, gone = "the container init PID is gone before it started"): RuntimeRecord {
  const stat = procStat(pid);
  if (!stat) throw new TsdError(gone.replace("PID", String(pid)), 1);
  return {
    ociVersion: spec.ociVersion ?? "1.0.2",
    id: o.id,
    pid,
    pidStart: stat.start,
    bundle: o.bundle,
    rootfs: resolve(o.bundle, spec.root?.path ?? "rootfs"),
    created: rfc3339Nanos(),
    annotations: spec.annotations ?? {},
    owner: "",
    cgroup: { paths: cg.dirs, systemd: g.systemdCgroup },
    terminal: spec.process?.terminal === true,
  };
}

/** A failed create: the init killed (it is no child of ours by now), the group, the dir. */
function undo(dir: string, pid: number, cg: SpecGroup | undefined): void {
  if (pid > 0) {
    try {
      process.kill(pid, 9);
    } catch {
      // Gone already.
    }
  }
  try {
    if (cg) removeSpecCgroup(cg.group);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** runc writes the pid file atomically: a reader never sees it half written. */
export function writePidFile(path: string, pid: number): void {
  const tmp = join(dirname(path), `.${process.pid}.pid-tmp`);
  writeFileSync(tmp, String(pid), { mode: 0o644 });
  renameSync(tmp, path);
}

export function monitorArgs(o: CreateOptions, dir: string, procs: readonly string[]): string[] {
  return [
    "--create",
    "--bundle", o.bundle,
    "--id", o.id,
    "--fifo", join(dir, FIFO_FILE),
    "--hook-state", join(dir, HOOK_STATE_FILE),
    ...procs.flatMap((p) => ["--cgroup-procs", p]),
    ...(o.consoleSocket ? ["--console-socket", o.consoleSocket] : []),
    ...(o.preserveFds > 0 ? ["--preserve-fds", String(o.preserveFds)] : []),
    ...(o.noPivot ? ["--no-pivot"] : []),
    ...(o.noNewKeyring ? ["--no-new-keyring"] : []),
    ...(o.wait ? ["--wait"] : []),
  ];
}

/** `started <pid>` or `error <status> <message>` (zig/CONTRACT.md "Report pipe"). */
export function parseCreateReport(text: string): { pid: number } | { error: string } {
  const line = text.split("\n")[0] ?? "";
  const r = parseReport(line);
  if (r?.kind === "started") return { pid: r.pid };
  if (r?.kind === "error") return { error: r.message };
  return { error: `the monitor ended without a report${line ? ` (said "${line}")` : ""}` };
}

async function startMonitor(o: CreateOptions, dir: string, procs: readonly string[]): Promise<{ pid: number; monitor: Subprocess }> {
  const exe = await monitorExecutable();
  let monitor: Subprocess;
  let text: string;
  try {
    const preserved = Array.from({ length: o.preserveFds }, (_, i) => 3 + i);
    for (const fd of preserved) checkOpen(fd);
    monitor = Bun.spawn([exe.path, ...monitorArgs(o, dir, procs)], {
      argv0: exe.argv0,
      stdio: ["inherit", "inherit", "inherit", "pipe", ...preserved],
      env: { PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin" },
    });
    // One line, then the monitor (and the init, which drops its copy first thing) closes it.
    text = (await new Response(Bun.file(monitor.stdio[3] as number).stream()).text()).slice(0, 65536);
  } finally {
    exe.close();
  }
  const report = parseCreateReport(text);
  if ("error" in report) {
    await monitor.exited;
    throw new TsdError(report.error, 1);
  }
  if (!o.wait) await monitor.exited;
  return { pid: report.pid, monitor };
}

/** --preserve-fds N: fds 3..3+N-1 must be open (a clear error instead of the spawn's). */
function checkOpen(fd: number): void {
  try {
    fstatSync(fd);
  } catch {
    throw new TsdError(`--preserve-fds: fd ${fd} is not open`, 1);
  }
}
