// `tsd start` of a created or exited container (same bundle, same rootfs: its upper dir
// keeps what the last run wrote) and `tsd restart`.
import type { Database } from "bun:sqlite";
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { TsdError } from "../errors";
import { containerDir } from "../store/paths";
import { createContainerCgroup, releaseBundleCgroup } from "../cgroup";
import { releaseContainer } from "../network/attach";
import { withContainerLock } from "./lock";
import { mustFind, stopContainer } from "./ops";
import type { RunOptions } from "./options";
import { startAttached, startDetached } from "./run";
import { isRunning } from "./state";
import { findContainer, markCreated, markExited, type ContainerRow } from "./store";

export interface StartFlags {
  attach: boolean;
  interactive: boolean;
}

/** Returns the exit status with --attach, else 0 once it runs. A running container is left as is. */
export async function startContainer(db: Database, root: string, ref: string, f: StartFlags): Promise<number> {
  const row = mustFind(db, root, ref);
  if (isRunning(row)) {
    if (f.attach) throw new TsdError(`container ${row.name} is already running: use tsd attach or tsd logs -f`);
    return 0;
  }
  const opts = JSON.parse(row.options) as RunOptions;
  const bundle = containerDir(root, row.id);
  if (!existsSync(join(bundle, "config.json"))) throw new TsdError(`container ${row.name} has no bundle left: remove it with tsd rm`);
  withContainerLock(root, row.id, () => {
    const now = findContainer(db, row.id);
    if (!now || now.id !== row.id) throw new TsdError(`no such container: ${ref}`);
    if (now.state === "running" || (now.state === "created" && now.monitor_pid !== 0)) throw new TsdError(`container ${row.name} is being started by another command`);
    // The last run's exit and its cleanup marker go: the monitor and wait look for new ones.
    for (const f of ["exit.json", "exit.json.tmp", "cleaned", "init.pid"]) rmSync(join(bundle, f), { force: true });
    releaseBundleCgroup(bundle); // a leftover of a crashed run; the limits come back fresh
    createContainerCgroup(row.id, opts);
    markCreated(db, row.id);
  });
  // A start that fails records the failure and releases what it took, keeping the container.
  const undo = () => {
    releaseContainer(db, root, row.id);
    releaseBundleCgroup(bundle);
    markExited(db, row.id, 125, Date.now(), "the start failed");
  };
  const o: RunOptions = { ...opts, interactive: f.attach && f.interactive };
  if (f.attach) return startAttached(db, root, row.id, bundle, o, undo);
  await startDetached(db, root, row.id, bundle, o, undo);
  return 0;
}

export async function restartContainer(db: Database, root: string, ref: string, timeoutSec: number): Promise<void> {
  const row: ContainerRow = mustFind(db, root, ref);
  await stopContainer(db, root, row, timeoutSec);
  await startContainer(db, root, row.id, { attach: false, interactive: false });
}
