// `tsd rm [-f] [-v]`: a running container only with -f (killed first); a start under way
// settles first. The removal itself runs under the container's lock, on the row as it is then.
import type { Database } from "bun:sqlite";
import { removeContainerFiles } from "./create";
import { releaseContainer } from "./network";
import { endMonitor, killInit, markStoppedByUser, settled } from "./lifecycle";
import { removeLockFile, withContainerLock } from "./lock";
import { mustFind } from "./resolve";
import { decide } from "./state";
import { containerById, deleteContainer } from "./store";
import { removeAnonymousVolumes } from "./volumes";
import { thawIfPaused } from "./pause";
import { containerEvent } from "./events";

export async function removeContainer(db: Database, root: string, ref: string, force: boolean, volumes = false): Promise<void> {
  const row = await settled(db, root, mustFind(db, root, ref));
  if (decide(force ? "remove-force" : "remove", row, ref) === "live") {
    markStoppedByUser(root, row.id);
    killInit(row);
    containerEvent(db, row, "kill", { signal: "9" });
    await thawIfPaused(db, root, row);
    await endMonitor(row, 5000);
  }
  withContainerLock(root, row.id, () => {
    // Again by full id, under the lock: another command may have removed or started it since
    // the look-up (the kill above took time).
    const now = containerById(db, row.id);
    if (!now) return;
    decide("claim-removal", now, ref);
    // Done by the cleanup already unless it never ran; idempotent.
    releaseContainer(db, root, row.id);
    removeContainerFiles(root, row.id);
    deleteContainer(db, row.id);
  });
  removeLockFile(root, row.id);
  if (volumes) removeAnonymousVolumes(db, root, row.options);
}
