// `tsd container prune`: every container that is not running or being started, with what its
// writable layer (upper/) held, as Docker counts the reclaimed space.
import type { Database } from "bun:sqlite";
import { join } from "node:path";
import { containerDir } from "../store/paths";
import { removeContainerFiles } from "./create";
import { removeLockFile, withContainerLock } from "./lock";
import { reconcile } from "./resolve";
import { stateOf, verdict } from "./state";
import { containerById, deleteContainer, listContainers, type ContainerRow } from "./store";
import { dirSize } from "./volumes";

const prunable = (row: ContainerRow) => verdict("prune", stateOf(row)) === "go";

/** `keep`: the prune's filters (system prune's until=/label=); every stopped one without. */
export function pruneContainers(db: Database, root: string, keep: (row: ContainerRow) => boolean = () => true): { removed: string[]; bytes: number } {
  reconcile(db, root);
  const removed: string[] = [];
  let bytes = 0;
  for (const row of listContainers(db)) {
    if (!prunable(row) || !keep(row)) continue;
    const gone = withContainerLock(root, row.id, () => {
      // Started meanwhile (it was checked before the lock), or removed.
      const now = containerById(db, row.id);
      if (!now || !prunable(now)) return false;
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
