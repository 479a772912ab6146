// `tsd start` of a created or exited container (same bundle, same rootfs: its upper dir
// keeps what the last run wrote) and `tsd restart`.
import type { Database } from "bun:sqlite";
import { containerEvent } from "./events";
import { existsSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TsdError } from "../errors";
import { faultPoint } from "../fault";
import { containerDir } from "../store/paths";
import { createBundleCgroup, releaseBundleCgroup } from "../cgroup";
import { releaseContainer } from "./network";
import { withContainerLock } from "./lock";
import { markStoppedByUser } from "./lifecycle";
import { mustFind } from "./resolve";
import { stopContainer } from "./stop";
import type { RunOptions } from "./options";
import { startAttached, startDetached } from "./start";
import { decide, stateOf, verdict } from "./state";
import { bumpRestartCount, containerById, markCreated, markExited, resetRestartCount, type ContainerRow } from "./store";
import { restartDelayMs, shouldRestart } from "./restart-policy";
import { decodeOptions } from "./options";
import { refreshJoinedNamespaces } from "./kernel-create";

export interface StartFlags {
  attach: boolean;
  interactive: boolean;
  /** Started by the restart policy, not the user: keeps the restart count. */
  byPolicy?: boolean;
}

/**
 * After an exit has been recorded (the monitor's cleanup command, or a foreground run):
 * start the container again if its --restart policy says so, after Docker's back-off.
 */
export async function maybeRestart(db: Database, root: string, id: string): Promise<boolean> {
  const decide = (): ContainerRow | undefined => {
    const row = containerById(db, id);
    if (!row || verdict("policy-restart", stateOf(row, root)) !== "go") return undefined;
    const opts = decodeOptions(row.options);
    const stopped = existsSync(join(containerDir(root, id), "stopped"));
    // A start that never reached the command (127, 126, 125) would fail again at once.
    const neverRan = row.error !== null && row.error !== undefined && row.error !== "";
    return !neverRan && shouldRestart(opts.restart, row.exit_code ?? -1, row.restart_count ?? 0, stopped) ? row : undefined;
  };
  const first = decide();
  if (!first) return false;
  const marker = join(containerDir(root, id), "restarting");
  writeFileSync(marker, "");
  await Bun.sleep(restartDelayMs(first.restart_count ?? 0));
  if (!decide()) {
    rmSync(marker, { force: true });
    return false; // stopped, removed or started meanwhile
  }
  try {
    await startContainer(db, root, id, { attach: false, interactive: false, byPolicy: true });
    return true;
  } catch (e) {
    console.error(`tsd: restart of ${id.slice(0, 12)} (restart policy) failed: ${(e as Error).message}`);
    return false;
  }
}

/** Returns the exit status with --attach, else 0 once it runs. A running container is left as is. */
export async function startContainer(db: Database, root: string, ref: string, f: StartFlags): Promise<number> {
  const row = mustFind(db, root, ref);
  if (decide(f.attach ? "start-attached" : "start", row, ref) === "noop") return 0;
  const opts = decodeOptions(row.options);
  const bundle = containerDir(root, row.id);
  if (!existsSync(join(bundle, "config.json"))) throw new TsdError(`container ${row.name} has no bundle left: remove it with tsd rm`);
  withContainerLock(root, row.id, () => {
    const now = containerById(db, row.id);
    if (!now) throw new TsdError(`no such container: ${ref}`);
    decide("claim-start", now, ref);
    // The last run's exit and its cleanup marker go: the monitor and wait look for new ones.
    for (const f of ["exit.json", "exit.json.tmp", "exit.json.reserve", "cleaned", "init.pid", "stopped", "restarting"]) rmSync(join(bundle, f), { force: true });
    releaseBundleCgroup(bundle); // a leftover of a crashed run; the limits come back fresh
    refreshJoinedNamespaces(db, bundle, opts); // --pid/--ipc container:: the donor's init now
    createBundleCgroup(bundle); // config.json's linux.cgroupsPath and linux.resources
    markCreated(db, row.id);
    if (f.byPolicy) bumpRestartCount(db, row.id);
    else resetRestartCount(db, row.id);
  });
  faultPoint("start:marked");
  // A start that fails records the failure and releases what it took, keeping the container.
  const undo = () => {
    releaseContainer(db, root, row.id);
    releaseBundleCgroup(bundle);
    markExited(db, row.id, 125, Date.now(), "the start failed");
  };
  // Attached, stdin only with -i; detached, a container made with -i keeps its stdin for attach.
  // run's -a and --sig-proxy belong to that run: `start -a` attaches both streams, proxies signals.
  const { attach: _a, sigProxy: _s, ...runless } = opts;
  const o: RunOptions = f.attach ? { ...runless, interactive: f.interactive } : opts;
  if (f.attach) return startAttached(db, root, row.id, bundle, o, undo, opts.restart ? () => maybeRestart(db, root, row.id) : undefined);
  await startDetached(db, root, row.id, bundle, o, undo);
  return 0;
}

/** `timeoutSec` undefined: the container's --stop-timeout, else 10. */
export async function restartContainer(db: Database, root: string, ref: string, timeoutSec: number | undefined): Promise<void> {
  const row: ContainerRow = mustFind(db, root, ref);
  decide("restart", row, ref);
  markStoppedByUser(root, row.id);
  await stopContainer(db, root, row, timeoutSec);
  await startContainer(db, root, row.id, { attach: false, interactive: false });
  containerEvent(db, row.id, "restart");
}
