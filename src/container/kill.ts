// `tsd kill`: one signal to the init of a running container.
import type { Database } from "bun:sqlite";
import { markStoppedByUser, signalContainer, waitForMonitor } from "./lifecycle";
import { mustFind } from "./resolve";
import { decide } from "./state";
import { thawIfPaused } from "./pause";
import { containerEvent } from "./events";

const SIGKILL = 9;

export async function killContainer(db: Database, root: string, ref: string, signal: number): Promise<void> {
  const row = mustFind(db, root, ref);
  decide("kill", row, ref);
  markStoppedByUser(root, row.id);
  signalContainer(row, signal);
  containerEvent(db, row, "kill", { signal: String(signal) });
  await thawIfPaused(db, root, row);
  // As Docker's daemon: after SIGKILL the command returns once the container is no longer
  // running (its exit recorded), so the next command sees it exited.
  if (signal === SIGKILL) await waitForMonitor(row, 10000);
}
