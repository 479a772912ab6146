// What state a container is really in. The database says "running" from the start until the
// cleanup; whether that is still true is a question for the kernel: its monitor (pid + start
// time) must be alive. A monitor that died without its cleanup (SIGKILL, OOM) is reconciled
// by the next command that reads state: the exit is recorded as unknown and the rest of the
// container (processes in its cgroup, the group itself) is released.
import type { Database } from "bun:sqlite";
import { cleanupContainer, releaseAbandonedStart } from "./cleanup";
import { sameProcess } from "./proc";
import { abandonedStart, containerById, findContainer, listContainers, markRunning, type ContainerRow } from "./store";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { containerDir } from "../store/paths";

export function isRunning(row: ContainerRow): boolean {
  return row.state === "running" && sameProcess(row.monitor_pid, row.monitor_start);
}

/** A start under way: the monitor is spawned (its pid recorded), its report not yet read. */
function starting(row: ContainerRow): boolean {
  return row.state === "created" && row.monitor_pid > 0;
}

/** A start has claimed the row: its CLI (monitor_pid -1, store.ts markCreated / insertContainer)
 *  or its monitor, before the report. Another start, a copy, a removal wait or refuse. */
export function startUnderWay(row: ContainerRow): boolean {
  return row.state === "created" && row.monitor_pid !== 0;
}

/** Running (as recorded, even before a reconcile) or being started: nothing may change it. */
export function busy(row: ContainerRow): boolean {
  return isRunning(row) || row.state === "running" || startUnderWay(row);
}

/** What ps (STATUS) and inspect (State.Status) show, in Docker's words. */
export type ShownState = "created" | "running" | "restarting" | "exited";

export function shownState(row: ContainerRow, root?: string): ShownState {
  if (isRunning(row)) return "running";
  if (row.state === "created") return "created";
  return root !== undefined && isRestarting(root, row) ? "restarting" : "exited";
}

/** Whether the row says running (or starting) but its monitor is gone. */
export function monitorLost(row: ContainerRow): boolean {
  return (row.state === "running" || starting(row)) && !sameProcess(row.monitor_pid, row.monitor_start);
}

/** The init's pid as the monitor wrote it once the init exec'd (CONTRACT.md). */
function initPidFile(root: string, id: string): number | undefined {
  try {
    const n = Number(readFileSync(join(containerDir(root, id), "init.pid"), "utf8").trim());
    return n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Cleans up containers whose monitor died, releases starts whose CLI died before the monitor
 * took over, and records as running those whose starting CLI
 * died before it could; returns whether any row changed.
 */
export function reconcile(db: Database, root: string, rows: ContainerRow[] = listContainers(db)): boolean {
  let changed = false;
  for (const row of rows) {
    if (starting(row) && sameProcess(row.monitor_pid, row.monitor_start)) {
      const pid = initPidFile(root, row.id);
      if (pid !== undefined) {
        markRunning(db, row.id, pid, row.monitor_pid);
        changed = true;
      }
      continue;
    }
    if (abandonedStart(row)) {
      releaseAbandonedStart(db, root, row.id);
      changed = true;
      continue;
    }
    if (!monitorLost(row)) continue;
    cleanupContainer(db, root, row.id, "the container's monitor died; its exit status is unknown");
    changed = true;
  }
  return changed;
}

/** A container by id, prefix or name, after reconciling it. */
export function lookup(db: Database, root: string, ref: string): ContainerRow | undefined {
  const row = findContainer(db, ref);
  if (!row) return undefined;
  if (reconcile(db, root, [row])) return containerById(db, row.id);
  return row;
}

/**
 * Between an exit and the restart its policy asked for (the back-off, which the old monitor's
 * cleanup command waits out): Docker shows "Restarting".
 */
export function isRestarting(root: string, row: ContainerRow): boolean {
  return row.state === "exited" && existsSync(join(containerDir(root, row.id), "restarting")) && sameProcess(row.monitor_pid, row.monitor_start);
}
