// The one way a command finds the container a user named: full id, unique id prefix or name
// (store.ts findContainer), then reconciled with the kernel (a dead monitor's exit recorded,
// an abandoned start released, a start whose CLI died recorded as running) so that the row a
// command decides on is current. What follows under the container's lock looks the row up
// again by its full id only (store.ts containerById): a name or prefix could mean another
// container by then.
import type { Database } from "bun:sqlite";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { TsdError } from "../errors";
import { containerDir } from "../store/paths";
import { cleanupContainer, releaseAbandonedStart } from "./cleanup";
import { snapshotFacts, stateOf, type KernelFacts } from "./state";
import { containerById, findContainer, listContainers, markRunning, type ContainerRow } from "./store";
import { needNamespace, rootlessMode } from "../store/rootless";

/** The init's pid as the monitor wrote it once the init exec'd (CONTRACT.md). */
function initPidFile(root: string, id: string): number | undefined {
  try {
    const n = Number(readFileSync(join(containerDir(root, id), "init.pid"), "utf8").trim());
    return n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

/** Brings one row in line with the kernel; returns whether it changed. */
function reconcileOne(db: Database, root: string, row: ContainerRow, facts: KernelFacts): boolean {
  switch (stateOf(row, undefined, facts)) {
    case "starting": {
      // Spawned by a CLI that died before the report: the init.pid file tells it ran.
      if (row.monitor_pid <= 0) return false;
      const pid = initPidFile(root, row.id);
      if (pid === undefined) return false;
      markRunning(db, row.id, pid, row.monitor_pid);
      return true;
    }
    case "abandoned":
      releaseAbandonedStart(db, root, row.id);
      return true;
    case "dead":
      cleanupContainer(db, root, row.id, "the container's monitor died; its exit status is unknown");
      return true;
    default:
      return false;
  }
}

/**
 * Cleans up containers whose monitor died, releases starts whose CLI died before the monitor
 * took over, and records as running those whose starting CLI died before it could; returns
 * whether any row changed.
 */
export function reconcile(db: Database, root: string, rows: ContainerRow[] = listContainers(db), facts: KernelFacts = snapshotFacts()): boolean {
  if (rootlessMode()?.pause) checkReconcileOnHost(rows, facts);
  let changed = false;
  for (const row of rows) if (reconcileOne(db, root, row, facts)) changed = true;
  return changed;
}

/** The rootless fast path (system/rootless-enter.ts): a dead monitor's cleanup and an abandoned
 *  start's release unmount and remove files of subordinate ids in the user's namespaces, so a
 *  command that meets one starts over there, before it changes anything (a start whose CLI died
 *  after the monitor took over is only a row to write: done on the host). */
function checkReconcileOnHost(rows: ContainerRow[], facts: KernelFacts): void {
  for (const row of rows) {
    const state = stateOf(row, undefined, facts);
    if (state === "dead" || state === "abandoned") needNamespace(`container ${row.name} is ${state}: its release is done in the namespace`);
  }
}

/** A container by id, prefix or name, after reconciling it. */
export function lookup(db: Database, root: string, ref: string): ContainerRow | undefined {
  const row = findContainer(db, ref);
  if (!row) return undefined;
  if (reconcile(db, root, [row])) return containerById(db, row.id);
  return row;
}

/** lookup, or Docker's "no such container". */
export function mustFind(db: Database, root: string, ref: string, code?: number): ContainerRow {
  const row = lookup(db, root, ref);
  if (!row) throw new TsdError(`no such container: ${ref}`, code);
  return row;
}
