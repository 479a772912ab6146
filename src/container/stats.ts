// What `tsd stats` samples: a running container's cgroup counters and its network bytes.
import type { Database } from "bun:sqlite";
import { TsdError } from "../errors";
import { bundleStats } from "../cgroup";
import { containerDir } from "../store/paths";
import { readNet, type Sample } from "../cgroup/stats";
import { mustFind, reconcile } from "./resolve";
import { decide, isRunning } from "./state";
import { listContainers, type ContainerRow } from "./store";

export interface StatsTarget {
  row: ContainerRow;
  /** What the user named it (docker stats shows that in CONTAINER). */
  asked: string;
}

/** The named containers, or every running one (every one with `all`), oldest first. */
export function statsTargets(db: Database, root: string, refs: string[], all: boolean): StatsTarget[] {
  if (refs.length === 0) {
    reconcile(db, root);
    return listContainers(db).filter((r) => all || isRunning(r)).map((row) => ({ row, asked: row.id.slice(0, 12) })).reverse();
  }
  return refs.map((p) => {
    return { row: mustFind(db, root, p), asked: p };
  });
}

/** One sample, or undefined for a container that does not run (or whose group is gone). */
export function sampleContainer(root: string, row: ContainerRow): Sample | undefined {
  if (decide("stats", row) === "noop") return undefined;
  const cg = bundleStats(containerDir(root, row.id));
  if (cg === undefined) return undefined;
  const net = readNet(row.pid);
  return { at: performance.now(), cg, netRx: net.rx, netTx: net.tx };
}
