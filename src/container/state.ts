// What state a container is really in. The database says "running" from the start until the
// cleanup; whether that is still true is a question for the kernel: its monitor (pid + start
// time) must be alive. A monitor that died without its cleanup (SIGKILL, OOM) is reconciled
// by the next command that reads state: the exit is recorded as unknown and the rest of the
// container (processes in its cgroup, the group itself) is released.
import type { Database } from "bun:sqlite";
import { cleanupContainer } from "./cleanup";
import { sameProcess } from "./proc";
import { findContainer, listContainers, type ContainerRow } from "./store";

export function isRunning(row: ContainerRow): boolean {
  return row.state === "running" && sameProcess(row.monitor_pid, row.monitor_start);
}

/** Whether the row says running but its monitor is gone. */
export function monitorLost(row: ContainerRow): boolean {
  return row.state === "running" && !sameProcess(row.monitor_pid, row.monitor_start);
}

/** Cleans up containers whose monitor died; returns whether any row changed. */
export function reconcile(db: Database, root: string, rows: ContainerRow[] = listContainers(db)): boolean {
  let changed = false;
  for (const row of rows) {
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
  if (reconcile(db, root, [row])) return findContainer(db, row.id);
  return row;
}
