// `tsd run` and `tsd start`: start through the monitor, then either stay with it (foreground:
// forward signals, end with the container's status) or leave it to run alone (-d).
import type { Database } from "bun:sqlite";
import type { Subprocess } from "bun";
import { TsdError } from "../errors";
import { faultPoint } from "../fault";
import { cleanupContainer } from "./cleanup";
import { maybeRestart } from "./restart";
import { createContainer, removeContainerFiles } from "./create";
import type { RunOptions } from "./options";
import { startMonitor } from "./start";
import { deleteContainer, markRunning, markStarting, runningMonitorPids } from "./store";
import { connectContainer, reconcile, releaseContainer } from "../network/attach";

const FORWARDED = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGWINCH"] as const;

export async function runContainer(db: Database, root: string, opts: RunOptions): Promise<number> {
  if (opts.tty && opts.interactive && !opts.detach && !process.stdin.isTTY) {
    throw new TsdError("the input device is not a TTY: drop -t, or run from a terminal");
  }
  reconcile(db, root);
  const c = createContainer(db, root, opts);
  // A run that cannot start leaves nothing behind.
  const undo = () => {
    releaseContainer(db, root, c.id);
    removeContainerFiles(root, c.id);
    deleteContainer(db, c.id);
  };
  if (opts.detach) {
    await startDetached(db, root, c.id, c.bundle, opts, undo);
    console.log(c.id);
    return 0;
  }
  return startAttached(db, root, c.id, c.bundle, opts, undo);
}

/**
 * The container's stdio is the CLI's own. The monitor waits, its exit recorded, while we
 * clean up here: one process start fewer than its own `tsd container cleanup` (which it runs
 * only if we die first). `undo` runs when the monitor cannot be started at all.
 */
export async function startAttached(db: Database, root: string, id: string, bundle: string, opts: RunOptions, undo: () => void): Promise<number> {
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
  const handlers = FORWARDED.map((sig) => [sig, () => (monitor ? send(sig) : pending.push(sig))] as const);
  for (const [sig, h] of handlers) process.on(sig, h);
  let started;
  try {
    await connectContainer(db, root, id);
    faultPoint("start:connected");
    started = await startMonitor({ root, id, bundle, stdin: opts.interactive, donors: runningMonitorPids(db), onSpawn: (pid) => markStarting(db, id, pid), ...(opts.log ? { log: opts.log } : {}) });
  } catch (e) {
    for (const [sig, h] of handlers) process.off(sig, h);
    undo();
    throw e;
  }
  const { report } = started;
  monitor = started.monitor;
  for (const sig of pending.splice(0)) send(sig);
  try {
    if (report.kind === "started") markRunning(db, id, report.pid, monitor.pid);
    const status = await started.exited();
    cleanupContainer(db, root, id);
    started.close();
    // As with Docker, the restart policy goes on after a foreground run has returned.
    if (opts.restart) await maybeRestart(db, root, id);
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
 * -d: the monitor lives on alone (its stdio /dev/null, its own session) and runs the cleanup
 * itself when the container exits. Resolves once the init has exec'd.
 */
export async function startDetached(db: Database, root: string, id: string, bundle: string, opts: RunOptions, undo: () => void): Promise<void> {
  let started;
  try {
    await connectContainer(db, root, id);
    faultPoint("start:connected");
    started = await startMonitor({ root, id, bundle, stdin: false, detach: true, stdinAttach: opts.interactive, donors: runningMonitorPids(db), onSpawn: (pid) => markStarting(db, id, pid), ...(opts.log ? { log: opts.log } : {}) });
  } catch (e) {
    undo();
    throw e;
  }
  const { monitor, report } = started;
  started.close();
  // The monitor records the failure itself (exit.json, then its cleanup command).
  if (report.kind === "error") throw new TsdError(report.message, report.status);
  if (report.kind === "started") markRunning(db, id, report.pid, monitor.pid);
}
