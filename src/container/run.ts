// `tsd run`: create the container, then start it (start.ts) attached or detached.
import type { Database } from "bun:sqlite";
import { TsdError } from "../errors";
import { maybeRestart } from "./restart";
import { removeContainerFiles } from "./create";
import { createWithMeta } from "./meta-create";
import type { RunOptions } from "./options";
import { startAttached, startDetached } from "./start";
import { containerById, deleteContainer, runningMonitors } from "./store";
import { monitorExecutable, type MonitorExecutable } from "../native/embedded";
import { releaseContainer } from "./network";

export async function runContainer(db: Database, root: string, opts: RunOptions): Promise<number> {
  if (opts.tty && opts.interactive && !opts.detach && !process.stdin.isTTY) {
    throw new TsdError("the input device is not a TTY: drop -t, or run from a terminal");
  }
  // The monitor's sealed copy is made (or a running monitor's found) by the thread pool while
  // this thread builds the bundle; startMonitor awaits it and closes it once the monitor runs.
  const exe = monitorExecutable(runningMonitors(db));
  try {
    return await createAndStart(db, root, opts, exe);
  } finally {
    // Closing is idempotent: this only matters when the run failed before the spawn.
    await exe.then((e) => e.close(), () => {});
  }
}

async function createAndStart(db: Database, root: string, opts: RunOptions, exe: Promise<MonitorExecutable>): Promise<number> {
  const c = createWithMeta(db, root, opts);
  // The image's HEALTHCHECK merged in at create.
  if (c.healthcheck) opts = { ...opts, healthcheck: c.healthcheck };
  // A run that cannot start leaves nothing behind.
  const undo = () => {
    releaseContainer(db, root, c.id);
    removeContainerFiles(root, c.id);
    deleteContainer(db, c.id);
  };
  if (opts.detach) {
    try {
      await startDetached(db, root, c.id, c.bundle, opts, undo, exe);
    } catch (e) {
      // Docker prints the id before the start: a container that failed to start stays (created).
      if (containerById(db, c.id)) console.log(c.id);
      throw e;
    }
    console.log(c.id);
    return 0;
  }
  return startAttached(db, root, c.id, c.bundle, opts, undo, opts.restart ? () => maybeRestart(db, root, c.id) : undefined, exe);
}
