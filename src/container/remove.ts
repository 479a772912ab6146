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

/** rm -f's kills: a restart policy's start that was already under way when the first kill's
 *  "stopped by the user" mark was written runs the container again; it is killed again. */
const FORCE_ATTEMPTS = 5;

export async function removeContainer(db: Database, root: string, ref: string, force: boolean, volumes = false): Promise<void> {
  let row = await settled(db, root, mustFind(db, root, ref));
  for (let attempt = 1; ; attempt++) {
    if (decide(force ? "remove-force" : "remove", row, ref) === "live") {
      markStoppedByUser(root, row.id);
      killInit(row);
      containerEvent(db, row, "kill", { signal: "9" });
      await thawIfPaused(db, root, row);
      await endMonitor(row, 5000);
    }
    const again = withContainerLock(root, row.id, () => {
      // Again by full id, under the lock: another command may have removed or started it since
      // the look-up (the kill above took time).
      const now = containerById(db, row.id);
      if (!now) return undefined;
      if (force && attempt < FORCE_ATTEMPTS && ["live", "wait"].includes(decide("remove-force", now, ref))) return now;
      decide("claim-removal", now, ref);
      // Done by the cleanup already unless it never ran; idempotent.
      releaseContainer(db, root, row.id);
      removeContainerFiles(root, row.id);
      deleteContainer(db, row.id);
      return undefined;
    });
    if (!again) break;
    row = await settled(db, root, again);
  }
  removeLockFile(root, row.id);
  if (volumes) removeAnonymousVolumes(db, root, row.options);
}
