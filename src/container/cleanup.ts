// After a container's init exits: record the exit status and, for --rm, remove it. Run by the
// monitor as `tsd container cleanup ID`, so it happens even when no CLI is alive. Idempotent.
import type { Database } from "bun:sqlite";
import { containerEvent } from "./events";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { containerDir } from "../store/paths";
import { removeContainerFiles } from "./create";
import { containerById, deleteContainer, markExited, markIdle, markOomKilled, markRunning, markStartFailed, type ContainerRow } from "./store";
import { releaseBundleCgroup, thawBundleNow } from "../cgroup";
import { removeLockFile, withContainerLock } from "./lock";
import { removeAnonymousVolumes } from "./volumes";
import { stateOf } from "./state";
import { releaseContainer } from "./network";
import { unmountFuseRootfs } from "./fuse-rootfs";

export interface ExitStatus {
  pid: number;
  exitCode: number;
  signal: number;
  startedAt: number;
  finishedAt: number;
  error?: string;
}

export function readExitStatus(root: string, id: string): ExitStatus | undefined {
  const path = join(containerDir(root, id), "exit.json");
  if (!existsSync(path)) return undefined;
  try {
    return parseExitStatus(readFileSync(path, "utf8"));
  } catch {
    return undefined;
  }
}

/** exit.json as the monitor writes it (zig/monitor/finish.zig; fixture test/contract/fixtures/exit*.json). */
export function parseExitStatus(text: string): ExitStatus | undefined {
  const v = JSON.parse(text) as Record<string, unknown>;
  const ints = ["pid", "exitCode", "signal", "startedAt", "finishedAt"] as const;
  if (!ints.every((k) => Number.isInteger(v[k]))) return undefined;
  if (v.error !== undefined && typeof v.error !== "string") return undefined;
  return { pid: v.pid as number, exitCode: v.exitCode as number, signal: v.signal as number, startedAt: v.startedAt as number, finishedAt: v.finishedAt as number, ...(typeof v.error === "string" ? { error: v.error } : {}) };
}

/**
 * Releases an abandoned start (the reconcile): its network goes; a --rm container, or one whose
 * create never finished (no config.json), goes whole; otherwise it is Created again, as after
 * `tsd create`, and `tsd start` works on it.
 */
export function releaseAbandonedStart(db: Database, root: string, id: string): void {
  const removed = withContainerLock(root, id, () => {
    const row = containerById(db, id);
    if (!row || stateOf(row) !== "abandoned") return false;
    releaseContainer(db, root, id);
    unmountFuseRootfs(containerDir(root, id));
    if (!row.auto_remove && existsSync(join(containerDir(root, id), "config.json"))) {
      markIdle(db, id);
      return false;
    }
    removeContainerFiles(root, id);
    deleteContainer(db, id);
    removeAnonymousVolumes(db, root, row.options);
    return true;
  });
  if (removed) removeLockFile(root, id);
}

/** A foreground run's start not yet written (start.ts): recorded with the exit, one commit. */
export interface UnrecordedStart {
  pid: number;
  monitorPid: number;
  startedAt: number;
}

/**
 * Under the container's lock. `lostMonitor`: the reconcile of a dead monitor, which only acts
 * if the row still says running with that monitor gone (another command may have done it).
 */
export function cleanupContainer(db: Database, root: string, id: string, lostMonitor?: string, start?: UnrecordedStart): void {
  withContainerLock(root, id, () => cleanupLocked(db, root, id, lostMonitor, start));
}

/**
 * The kernel's and the files' part first, then every row change in one transaction (one
 * commit): a cleanup killed half way leaves a row that still says running (or created) with
 * its monitor gone, which the next reconcile cleans up again (every step is idempotent).
 */
function cleanupLocked(db: Database, root: string, id: string, lostMonitor?: string, start?: UnrecordedStart): void {
  const row = containerById(db, id);
  if (!row) return;
  if (lostMonitor !== undefined && stateOf(row) !== "dead") return;
  const status = readExitStatus(root, id);
  // The OOM counter is read before the group goes; removing it also kills what a crashed
  // monitor left running in it.
  // A paused container whose monitor died: thawed, so the removal's SIGKILL reaches it (v1).
  if (row.paused) thawBundleNow(containerDir(root, id));
  const { oomKilled } = releaseBundleCgroup(containerDir(root, id), { tolerant: true });
  unmountFuseRootfs(containerDir(root, id));
  try {
    releaseContainer(db, root, id);
  } catch (e) {
    // Recorded anyway; the next command's reconcile retries the release.
    console.error(`tsd: releasing the network of ${id.slice(0, 12)}: ${(e as Error).message}`);
  }
  if (row.auto_remove) removeContainerFiles(root, id);
  db.transaction(() => recordExit(db, row, status, oomKilled, lostMonitor, start)).immediate();
  if (row.auto_remove) {
    removeAnonymousVolumes(db, root, row.options);
    removeLockFile(root, id);
    return;
  }
  // Tells a waiting monitor that nothing is left for it to do (zig/CONTRACT.md).
  if (existsSync(containerDir(root, id))) writeFileSync(join(containerDir(root, id), "cleaned"), "");
}

/** The row's part of a cleanup (its events: start if not yet recorded, oom, die, destroy). */
function recordExit(db: Database, row: ContainerRow, status: ExitStatus | undefined, oomKilled: boolean, lostMonitor?: string, start?: UnrecordedStart): void {
  const id = row.id;
  if (start) markRunning(db, id, start.pid, start.monitorPid, start.startedAt);
  if (oomKilled) containerEvent(db, id, "oom");
  if (row.auto_remove) {
    markExited(db, id, status?.exitCode ?? -1, Date.now(), null); // its die event
    deleteContainer(db, id);
    return;
  }
  const finished = status ? Math.floor(status.finishedAt / 1e6) : Date.now();
  // A start that never reached execve leaves the container created, with the status and the
  // error recorded (Docker 20.10: `run` of a missing command leaves "Created", ExitCode 127).
  if (status?.error !== undefined) markStartFailed(db, id, status.exitCode, status.error);
  else markExited(db, id, status?.exitCode ?? -1, finished, status?.error ?? (status ? null : (lostMonitor ?? "the monitor left no exit status")));
  markOomKilled(db, id, oomKilled);
}
