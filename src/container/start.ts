// Starting a created container: exec tsd-monitor (never a fork of Bun), which runs the bundle
// and reports on fd 3 whether the init reached execve (zig/CONTRACT.md); then either stay with
// it (foreground: forward signals, end with the container's status) or leave it alone (-d).
import type { Database } from "bun:sqlite";
import type { Subprocess } from "bun";
import { join } from "node:path";
import { monitorExecutable, type MonitorExecutable } from "../native/embedded";
import { TsdError, EXIT_ENGINE } from "../errors";
import { faultPoint } from "../fault";
import { cleanupContainer, type UnrecordedStart } from "./cleanup";
import type { RunOptions } from "./options";
import { markRunning, markStarting, runningMonitors } from "./store";
import { connectContainer } from "./network";
import { DEFAULT_LOG, type LogOptions } from "./log-options";
import { logPath } from "./logs";
import { monitorHealthArgs, type HealthConfig } from "./health";
import { attachedStreams } from "./meta-options";
import { parseDetachKeys } from "./detach-keys";
import { writeSync } from "node:fs";
import { namespaceArgs } from "../store/rootless";
import { selfCommand } from "../io";

export interface Started {
  monitor: Subprocess;
  pid: number;
}

export interface StartOptions {
  /** Called with the monitor's pid as soon as it is spawned (before its report). */
  onSpawn?: (monitorPid: number) => void;
  root: string;
  id: string;
  bundle: string;
  stdin: boolean;
  /** -d: the monitor gets /dev/null for stdio, no exit report; it runs the cleanup itself. */
  detach?: boolean;
  /** -d -i: the container's stdin stays open for `tsd attach` clients. */
  stdinAttach?: boolean;
  log?: LogOptions;
  /** The monitor's executable (embedded.ts monitorExecutable), started by the caller before
   *  its other work (run: before building the bundle). */
  exe: Promise<MonitorExecutable>;
  /** The container's merged Config.Healthcheck: the monitor runs its probes. */
  healthcheck?: HealthConfig;
  /** --log-driver none: no log file (`tsd logs` refuses). */
  noLog?: boolean;
  /** -a without stdout or stderr: the monitor's fd 1 or 2 is /dev/null (foreground only). */
  discard?: { stdout: boolean; stderr: boolean };
  /** The container's stdout and stderr into this fd, not the CLI's (a build stage's RUN whose output waits its turn). */
  outputFd?: number;
  /** Foreground with a terminal and stdin: typing these detaches (the monitor matches them). */
  detachKeys?: number[];
}

export function monitorArgv(monitorPath: string, o: Omit<StartOptions, "exe">, self: string[] = selfCommand(), namespaces: string[] = namespaceArgs("user+mount")): string[] {
  return [
    monitorPath,
    "--bundle", o.bundle,
    "--id", o.id,
    ...(o.stdin ? ["--stdin"] : []),
    ...(o.detach ? [] : ["--exit-report"]),
    ...(o.detachKeys && !o.detach ? ["--detach-keys", Buffer.from(o.detachKeys).toString("hex")] : []),
    "--attach",
    ...(o.stdinAttach ? ["--stdin-attach"] : []),
    "--exit-file", join(o.bundle, "exit.json"),
    ...(o.noLog ? [] : [
      "--log", logPath(o.root, o.id),
      "--log-max-size", String((o.log ?? DEFAULT_LOG).maxSize),
      "--log-max-files", String((o.log ?? DEFAULT_LOG).maxFile),
    ]),
    ...monitorHealthArgs(o.healthcheck),
    ...namespaces,
    "--", ...self, "--root", o.root, "container", "cleanup", o.id,
  ];
}

export { parseReport, type LastReport, type Report } from "../native/report";
import { parseReport, type LastReport, type Report } from "../native/report";
import { mountFuseRootfs, unmountFuseRootfs } from "./fuse-rootfs";

export interface StartedMonitor {
  monitor: Subprocess;
  /** `started` or `error`: whether the init reached execve. */
  report: Report;
  /**
   * The monitor's last line: `exited` with the container's status once it has exited and its
   * output is drained; `detached` or `output-closed` when the user detached or stopped reading
   * (the monitor runs on alone and cleans up itself); undefined when the monitor died first.
   * While the caller holds the report pipe open the monitor leaves the cleanup to it;
   * `close()` hands the cleanup back.
   */
  last(): Promise<LastReport | undefined>;
  close(): void;
}

/** The monitor's executable the caller started early, else one shared with a running monitor. */
function earlyExe(db: Database, exe: Promise<MonitorExecutable> | undefined): Promise<MonitorExecutable> {
  return exe ?? monitorExecutable(runningMonitors(db));
}

/** Starts the monitor; resolves once the container has exec'd or has failed to. */
export async function startMonitor(o: StartOptions): Promise<StartedMonitor> {
  const exeSoon = o.exe;
  try {
    // Rootless on fuse-overlayfs: the rootfs is mounted before the init needs it (fuse-rootfs.ts).
    mountFuseRootfs(o.bundle);
  } catch (e) {
    void exeSoon.then((x) => x.close(), () => {});
    throw e;
  }
  faultPoint("start:fuse-mounted");
  const exe = await exeSoon;
  let monitor: Subprocess;
  let lines: LineReader;
  let line: string | undefined;
  try {
    monitor = Bun.spawn(monitorArgv(exe.path, o), {
      argv0: exe.argv0,
      stdio: o.detach ? ["ignore", "ignore", "ignore", "pipe"] : ["inherit", o.outputFd ?? (o.discard?.stdout ? "ignore" : "inherit"), o.outputFd ?? (o.discard?.stderr ? "ignore" : "inherit"), "pipe"],
      env: { PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin", ...(process.env.TSD_DEBUG ? { TSD_DEBUG: process.env.TSD_DEBUG } : {}) },
    });
    o.onSpawn?.(monitor.pid);
    lines = new LineReader(monitor.stdio[3] as number);
    // A line (or EOF) on fd 3 means the monitor has exec'd: the memfd can go.
    line = await lines.next();
  } finally {
    exe.close();
  }
  const report = line === undefined ? undefined : parseReport(line);
  if (!report || report.kind === "exited") {
    lines.close();
    await monitor.exited;
    unmountFuseRootfs(o.bundle);
    throw new TsdError(`the container monitor ended before reporting (${line ? `said "${line}"` : `exit ${monitor.exitCode ?? monitor.signalCode}`})`, EXIT_ENGINE);
  }
  return {
    monitor,
    report,
    async last() {
      const last = await lines.next();
      const r = last === undefined ? undefined : parseReport(last);
      return r?.kind === "exited" || r?.kind === "detached" || r?.kind === "output-closed" ? r : undefined;
    },
    close() {
      // The pipe closes when this process exits, which the monitor waits for: it must not
      // keep us alive in turn.
      lines.close();
      monitor.unref();
    },
  };
}

/** Lines from a pipe fd, bounded: a line longer than 64 KiB ends the stream. */
export class LineReader {
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private readonly decoder = new TextDecoder();
  private text = "";
  private done = false;

  constructor(fd: number) {
    this.reader = Bun.file(fd).stream().getReader() as ReadableStreamDefaultReader<Uint8Array>;
  }

  async next(): Promise<string | undefined> {
    while (!this.text.includes("\n") && !this.done && this.text.length <= 65536) {
      const { value, done } = await this.reader.read();
      if (done) this.done = true;
      else this.text += this.decoder.decode(value, { stream: true });
    }
    const at = this.text.indexOf("\n");
    if (at < 0) return undefined;
    const line = this.text.slice(0, at);
    this.text = this.text.slice(at + 1);
    return line;
  }

  close(): void {
    this.done = true;
    this.reader.cancel().catch(() => {});
  }
}

const FORWARDED = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGWINCH"] as const;

/**
 * The container's stdio is the CLI's own. `afterExit` (the restart policy) runs once the exit
 * is recorded, before the status is returned. The monitor waits, its exit recorded, while we
 * clean up here: one process start fewer than its own `tsd container cleanup` (which it runs
 * only if we die first). `undo` runs when the monitor cannot be started at all.
 */
export async function startAttached(db: Database, root: string, id: string, bundle: string, opts: RunOptions, undo: () => void, afterExit?: () => Promise<unknown>, exe?: Promise<MonitorExecutable>): Promise<number> {
  // Handlers first: the container's output can reach the user before the monitor's report
  // reaches us, and a signal sent then must not kill the CLI. Until the monitor has reported
  // (it blocks signals before that) they wait here.
  let monitor: Subprocess | undefined;
  const pending: NodeJS.Signals[] = [];
  const send = (sig: NodeJS.Signals) => {
    try {
      monitor!.kill(sig);
    } catch {
      // The monitor is gone already; its exit is handled below.
    }
  };
  // --sig-proxy=false: the CLI keeps no handler (a signal ends it; the container runs on).
  const handlers = FORWARDED.filter((sig) => opts.sigProxy !== false || sig === "SIGWINCH").map((sig) => [sig, () => (monitor ? send(sig) : pending.push(sig))] as const);
  for (const [sig, h] of handlers) process.on(sig, h);
  let started;
  try {
    await connectContainer(db, root, id);
    faultPoint("start:connected");
    started = await startMonitor({ root, id, bundle, stdin: opts.interactive, exe: earlyExe(db, exe), onSpawn: (pid) => markStarting(db, id, pid), ...logAndStreams(opts), ...detachKeys(opts), ...(opts.healthcheck ? { healthcheck: opts.healthcheck } : {}) });
  } catch (e) {
    for (const [sig, h] of handlers) process.off(sig, h);
    undo();
    throw e;
  }
  const { report } = started;
  monitor = started.monitor;
  for (const sig of pending.splice(0)) send(sig);
  try {
    const { last, unrecorded } = await recordStart(db, id, started);
    if (last?.kind === "detached" || last?.kind === "output-closed") return leave(started, last);
    const status = last?.status;
    cleanupContainer(db, root, id, undefined, unrecorded);
    started.close();
    // As with Docker, the restart policy goes on after a foreground run has returned.
    if (afterExit) await afterExit();
    if (status === undefined) {
      await monitor.exited;
      throw new TsdError(`the container monitor was killed by ${monitor.signalCode ?? `exit ${monitor.exitCode}`}`);
    }
    if (report.kind === "error") throw new TsdError(report.message, report.status);
    return status;
  } finally {
    for (const [sig, h] of handlers) process.off(sig, h);
  }
}

/**
 * How long a foreground start may go unrecorded: a container that exits within it has its
 * start written with its exit (one commit for both). Until then the row names the monitor
 * (markStarting) and the bundle its init (init.pid): a command that looks meanwhile records the
 * start itself (resolve.ts reconcile), as it does for a CLI that died at this point.
 */
export const START_RECORD_DELAY_MS = 100;

/** The monitor's last line, and the start if it is still to be recorded (with the exit). */
async function recordStart(db: Database, id: string, started: StartedMonitor): Promise<{ last: LastReport | undefined; unrecorded?: UnrecordedStart }> {
  const { report, monitor } = started;
  const lastLine = started.last();
  if (report.kind !== "started") return { last: await lastLine };
  const start: UnrecordedStart = { pid: report.pid, monitorPid: monitor.pid, startedAt: Date.now() };
  let timer: Timer | undefined;
  const early = await Promise.race([lastLine.then((last) => ({ last })), new Promise<undefined>((done) => (timer = setTimeout(done, START_RECORD_DELAY_MS)))]);
  clearTimeout(timer);
  if (early?.last?.kind === "exited") return { last: early.last, unrecorded: start };
  markRunning(db, id, start.pid, start.monitorPid, start.startedAt);
  return { last: early ? early.last : await lastLine };
}

/**
 * -d: the monitor lives on alone (its stdio /dev/null, its own session) and runs the cleanup
 * itself when the container exits. Resolves once the init has exec'd.
 */
export async function startDetached(db: Database, root: string, id: string, bundle: string, opts: RunOptions, undo: () => void, exe?: Promise<MonitorExecutable>): Promise<void> {
  let started;
  try {
    await connectContainer(db, root, id);
    faultPoint("start:connected");
    started = await startMonitor({ root, id, bundle, stdin: false, detach: true, stdinAttach: opts.interactive, exe: earlyExe(db, exe), onSpawn: (pid) => markStarting(db, id, pid), ...logAndStreams(opts), ...(opts.healthcheck ? { healthcheck: opts.healthcheck } : {}) });
  } catch (e) {
    undo();
    throw e;
  }
  const { monitor, report } = started;
  if (report.kind === "error") {
    // The monitor records the failure itself (exit.json, then its cleanup command): wait for
    // it, so the container's state is settled when the command returns, as Docker's is.
    await monitor.exited;
    started.close();
    throw new TsdError(report.message, report.status);
  }
  started.close();
  if (report.kind === "started") markRunning(db, id, report.pid, monitor.pid);
}

/**
 * The user detached, or closed our output (`tsd run … | head`): the container runs on with its
 * monitor, which restored the terminal, and cleans up (and restarts) by itself when it exits.
 * Docker's CLI returns 0 on a detach and fails its write to the closed stream with status 1.
 */
function leave(started: StartedMonitor, last: Exclude<LastReport, { kind: "exited" }>): number {
  started.close();
  if (last.kind === "detached") return 0;
  try {
    writeSync(2, `write /dev/${last.stream}: broken pipe\n`);
  } catch {
    // stderr is the closed one: nothing to tell.
  }
  return 1;
}

/** With a terminal and stdin, Docker's detach keys (--detach-keys, else ctrl-p,ctrl-q). */
function detachKeys(opts: RunOptions): Pick<StartOptions, "detachKeys"> {
  if (!opts.tty || !opts.interactive) return {};
  return { detachKeys: parseDetachKeys(opts.detachKeys ?? "ctrl-p,ctrl-q") };
}

/** The monitor's log (--log-opt, --log-driver none) and, in the foreground, the -a streams. */
function logAndStreams(opts: RunOptions): Pick<StartOptions, "log" | "noLog" | "discard" | "outputFd"> {
  const a = attachedStreams(opts);
  return {
    ...(opts.outputFd !== undefined ? { outputFd: opts.outputFd } : {}),
    ...(opts.log ? { log: opts.log } : {}),
    ...(opts.logDriver === "none" ? { noLog: true } : {}),
    ...(opts.attach ? { discard: { stdout: !a.stdout, stderr: !a.stderr } } : {}),
  };
}
