// `tsd stop`: the stop signal, a grace period, then SIGKILL; returns once it has exited.
import type { Database } from "bun:sqlite";
import { constants } from "node:os";
import { TsdError } from "../errors";
import { findImage } from "../image/store";
import { endMonitor, killInit, markStoppedByUser, signalContainer, signalNumber, waitForMonitor } from "./lifecycle";
import { mustFind, reconcile } from "./resolve";
import { decide, stateOf } from "./state";
import { containerById, type ContainerRow } from "./store";
import { decodeOptions } from "./options";
import { thawIfPaused } from "./pause";
import { containerEvent } from "./events";
import { rootlessMode } from "../store/rootless";
import { reconcileInside } from "./rootless";

export function stopSignalOf(db: Database, row: ContainerRow): number {
  const image = findImage(db, row.image_id);
  const configured = decodeOptions(row.options).stopSignal ?? image?.config.config?.StopSignal;
  return (configured && signalNumber(configured)) || constants.signals.SIGTERM;
}

/**
 * docker stop of a resolved container; a container that does not run is left as is. `timeout`
 * undefined: the container's --stop-timeout, else 10; negative: no limit.
 */
export async function stopContainer(db: Database, root: string, row: ContainerRow, timeout: number | undefined, signal?: string): Promise<void> {
  if (decide("stop", row) === "noop") return;
  const timeoutSec = timeout ?? decodeOptions(row.options).stopTimeout ?? 10;
  const sig = signal === undefined ? stopSignalOf(db, row) : signalNumber(signal);
  if (sig === undefined) throw new TsdError(`invalid signal "${signal}": use a name like SIGTERM or HUP, or a number`);
  try {
    signalContainer(row, sig);
    containerEvent(db, row, "kill", { signal: String(sig) });
  } catch {
    // Exited meanwhile.
  }
  await thawIfPaused(db, root, row);
  if (await waitForMonitor(row, timeoutSec < 0 ? Infinity : timeoutSec * 1000)) return finishAfterMonitor(db, root, row);
  killInit(row);
  containerEvent(db, row, "kill", { signal: "9" });
  // A monitor that does not end after its init was killed is broken: end it too; the
  // reconcile below records the exit and releases the cgroup (which kills the rest).
  await endMonitor(row, 10000);
  finishAfterMonitor(db, root, row);
}

function finishAfterMonitor(db: Database, root: string, row: ContainerRow): void {
  const now = containerById(db, row.id);
  // The rootless fast path: a monitor that died without its cleanup is cleaned up inside.
  if (now && rootlessMode()?.pause && stateOf(now) === "dead") reconcileInside(root, now.id);
  else if (now) reconcile(db, root, [now]);
  containerEvent(db, row, "stop");
}

/** tsd stop REF: marked as stopped by the user (its restart policy leaves it), then stopped. */
export async function stopByRef(db: Database, root: string, ref: string, timeoutSec: number | undefined, signal?: string): Promise<void> {
  const row = mustFind(db, root, ref);
  markStoppedByUser(root, row.id);
  await stopContainer(db, root, row, timeoutSec, signal);
}
