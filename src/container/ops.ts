// Lifecycle operations on an existing container: kill, stop, wait, rm, rename. They wait for
// the monitor without holding the container's lock (the monitor's own cleanup command takes
// it); the lock guards the short critical sections only.
import type { Database } from "bun:sqlite";
import { constants } from "node:os";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TsdError } from "../errors";
import { findImage } from "../image/store";
import { removeContainerFiles } from "./create";
import { releaseContainer } from "../network/attach";
import { readExitStatus } from "./cleanup";
import { removeLockFile, withContainerLock } from "./lock";
import { dirSize, removeAnonymousVolumes } from "./volumes";
import { sameProcess } from "./proc";
import { busy, isRunning, lookup, reconcile, startUnderWay } from "./state";
import { containerById, deleteContainer, listContainers, renameContainer, type ContainerRow } from "./store";
import { recordContainer } from "./record";
import { containerDir } from "../store/paths";
import { decodeOptions } from "./options";

export function mustFind(db: Database, root: string, ref: string): ContainerRow {
  const row = lookup(db, root, ref);
  if (!row) throw new TsdError(`no such container: ${ref}`);
  return row;
}

/** "SIGTERM", "TERM", "15", "sigkill" → the signal number; undefined if unknown. */
export function signalNumber(text: string): number | undefined {
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    return n >= 1 && n <= 64 ? n : undefined;
  }
  const up = text.toUpperCase();
  const name = up.startsWith("SIG") ? up : `SIG${up}`;
  const n = (constants.signals as Record<string, number>)[name];
  if (n !== undefined) return n;
  const rt = /^SIGRTMIN(?:\+(\d+))?$/.exec(name);
  if (rt) return 34 + Number(rt[1] ?? 0);
  return undefined;
}

/** Sends `signal` to the container's init, after making sure the pid is still it. */
export function signalContainer(row: ContainerRow, signal: number): void {
  if (!isRunning(row) || !sameProcess(row.pid, row.pid_start)) {
    throw new TsdError(`container ${row.name} is not running`);
  }
  try {
    process.kill(row.pid, signal);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ESRCH") throw e;
  }
}

/** Resolves once the monitor is gone (and its cleanup done), or after `timeoutMs`. */
export async function waitForMonitor(row: ContainerRow, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let pause = 5;
  while (sameProcess(row.monitor_pid, row.monitor_start)) {
    if (Date.now() >= deadline) return false;
    await Bun.sleep(pause);
    pause = Math.min(pause * 2, 50);
  }
  return true;
}

export function stopSignalOf(db: Database, row: ContainerRow): number {
  const image = findImage(db, row.image_id);
  const configured = decodeOptions(row.options).stopSignal ?? image?.config.config?.StopSignal;
  return (configured && signalNumber(configured)) || constants.signals.SIGTERM;
}

/** docker stop: the stop signal, `timeout` seconds (undefined: the container's --stop-timeout, else 10; negative: no limit), then SIGKILL. */
export async function stopContainer(db: Database, root: string, row: ContainerRow, timeout: number | undefined, signal?: string): Promise<void> {
  if (!isRunning(row)) return;
  const timeoutSec = timeout ?? decodeOptions(row.options).stopTimeout ?? 10;
  const sig = signal === undefined ? stopSignalOf(db, row) : signalNumber(signal);
  if (sig === undefined) throw new TsdError(`invalid signal "${signal}": use a name like SIGTERM or HUP, or a number`);
  try {
    signalContainer(row, sig);
  } catch {
    // Exited meanwhile.
  }
  if (await waitForMonitor(row, timeoutSec < 0 ? Infinity : timeoutSec * 1000)) return finishAfterMonitor(db, root, row);
  if (sameProcess(row.pid, row.pid_start)) process.kill(row.pid, "SIGKILL");
  if (!(await waitForMonitor(row, 10000))) {
    // A monitor that does not end after its init was killed is broken: end it too; the
    // reconcile below records the exit and releases the cgroup (which kills the rest).
    if (sameProcess(row.monitor_pid, row.monitor_start)) process.kill(row.monitor_pid, "SIGKILL");
    await waitForMonitor(row, 2000);
  }
  finishAfterMonitor(db, root, row);
}

function finishAfterMonitor(db: Database, root: string, row: ContainerRow): void {
  const now = containerById(db, row.id);
  if (now) reconcile(db, root, [now]);
}

/** `<bundle>/stopped`: the user stopped, killed or removed it: the restart policy leaves it alone. */
export function markStoppedByUser(root: string, id: string): void {
  const dir = containerDir(root, id);
  if (existsSync(dir)) writeFileSync(join(dir, "stopped"), "");
}

/** A start under way (its CLI between the lock and the monitor's report) settles first. */
async function settled(db: Database, root: string, row: ContainerRow): Promise<ContainerRow> {
  let now = row;
  for (let i = 0; i < 500 && startUnderWay(now); i++) {
    await Bun.sleep(20);
    reconcile(db, root, [now]);
    const next = containerById(db, row.id);
    if (!next) return now;
    now = next;
  }
  return now;
}

export async function removeContainer(db: Database, root: string, ref: string, force: boolean, volumes = false): Promise<void> {
  const row = await settled(db, root, mustFind(db, root, ref));
  if (isRunning(row)) {
    if (!force) throw new TsdError(`cannot remove running container ${row.id.slice(0, 12)}: stop it first or use rm -f`);
    markStoppedByUser(root, row.id);
    if (sameProcess(row.pid, row.pid_start)) process.kill(row.pid, "SIGKILL");
    if (!(await waitForMonitor(row, 5000)) && sameProcess(row.monitor_pid, row.monitor_start)) {
      process.kill(row.monitor_pid, "SIGKILL");
      await waitForMonitor(row, 2000);
    }
  }
  withContainerLock(root, row.id, () => {
    const now = containerById(db, row.id);
    if (!now) return;
    if (isRunning(now) || startUnderWay(now)) throw new TsdError(`container ${row.name} was started again meanwhile: retry the removal`);
    // Done by the cleanup already unless it never ran; idempotent.
    releaseContainer(db, root, row.id);
    removeContainerFiles(root, row.id);
    deleteContainer(db, row.id);
  });
  removeLockFile(root, row.id);
  if (volumes) removeAnonymousVolumes(db, root, row.options);
}

/** docker wait: blocks until the container is not running, returns its exit code. */
export async function waitContainer(db: Database, root: string, ref: string): Promise<number> {
  const row = mustFind(db, root, ref);
  let last = row;
  let code: number | undefined;
  let pause = 10;
  for (;;) {
    const now = containerById(db, row.id);
    if (!now) {
      // Removed (--rm): the exit.json read while it was there is the answer.
      return code ?? last.exit_code ?? 0;
    }
    last = now;
    // A dead monitor, or a start whose CLI died, is settled here too.
    if (reconcile(db, root, [now])) continue;
    if (now.state === "exited") return now.exit_code ?? -1;
    const status = existsSync(containerDir(root, row.id)) ? readExitStatus(root, row.id) : undefined;
    if (status) code = status.exitCode;
    await Bun.sleep(pause);
    pause = Math.min(pause * 2, 100);
  }
}

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

export function rename(db: Database, root: string, ref: string, newName: string): void {
  const name = newName.replace(/^\//, "");
  if (!NAME.test(name)) throw new TsdError(`invalid container name "${newName}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  const row = mustFind(db, root, ref);
  if (row.name === name) throw new TsdError(`renaming a container with the same name as its current name: ${name}`);
  renameContainer(db, row.id, name);
  recordContainer(root, { ...row, name });
}

/**
 * container prune: every container that is not running or being started, with what its
 * writable layer (upper/) held, as Docker counts the reclaimed space.
 */
export function pruneContainers(db: Database, root: string): { removed: string[]; bytes: number } {
  reconcile(db, root);
  const removed: string[] = [];
  let bytes = 0;
  for (const row of listContainers(db)) {
    if (busy(row)) continue;
    const gone = withContainerLock(root, row.id, () => {
      const now = containerById(db, row.id);
      if (!now || busy(now)) return false;
      bytes += sizeOf(join(containerDir(root, row.id), "upper"));
      removeContainerFiles(root, row.id);
      deleteContainer(db, row.id);
      return true;
    });
    if (!gone) continue;
    removeLockFile(root, row.id);
    removed.push(row.id);
  }
  return { removed, bytes };
}

function sizeOf(dir: string): number {
  try {
    return dirSize(dir);
  } catch {
    return 0;
  }
}
