// `tsd pause` / `tsd unpause`: the container's cgroup frozen or thawed (v1 freezer.state, v2
// cgroup.freeze), recorded in the row's `paused` (state.ts "paused"). Under the container's lock,
// so a pause does not cross a stop or a removal.
import type { Database } from "bun:sqlite";
import { freezeBundle } from "../cgroup";
import { TsdError } from "../errors";
import { containerDir } from "../store/paths";
import { withContainerLock } from "./lock";
import { mustFind } from "./resolve";
import { decide } from "./state";
import { containerById, markPaused, type ContainerRow } from "./store";

async function setFrozen(db: Database, root: string, ref: string, frozen: boolean): Promise<ContainerRow> {
  const row = mustFind(db, root, ref);
  decide(frozen ? "pause" : "unpause", row, ref, root);
  const bundle = containerDir(root, row.id);
  if (!(await freezeBundle(bundle, frozen))) {
    throw new TsdError(`cannot ${frozen ? "pause" : "unpause"} container ${row.name}: it has no cgroup with a freezer`, 1);
  }
  withContainerLock(root, row.id, () => markPaused(db, row.id, frozen));
  return row;
}

export async function pauseContainer(db: Database, root: string, ref: string): Promise<ContainerRow> {
  return await setFrozen(db, root, ref, true);
}

export async function unpauseContainer(db: Database, root: string, ref: string): Promise<ContainerRow> {
  return await setFrozen(db, root, ref, false);
}

/**
 * After a signal to a paused container (stop, kill, rm -f, restart): thawed so the signal is
 * delivered, as Docker's daemon does (moby daemon/kill.go); it is running again if it survives.
 */
export async function thawIfPaused(db: Database, root: string, row: ContainerRow): Promise<void> {
  if (!row.paused) return;
  try {
    await freezeBundle(containerDir(root, row.id), false);
  } catch {
    // The group went with the container meanwhile.
  }
  markPaused(db, row.id, false);
}
