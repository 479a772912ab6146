// What the lifecycle verbs share (stop.ts, kill.ts, remove.ts, restart.ts, attach.ts): signal
// names, signalling the init, waiting for the monitor to end, the user's stop marker, and
// waiting for a start under way to settle.
import type { Database } from "bun:sqlite";
import { constants } from "node:os";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TsdError } from "../errors";
import { containerDir } from "../store/paths";
import { sameProcess } from "./proc";
import { reconcile } from "./resolve";
import { decide, stateOf } from "./state";
import { containerById, type ContainerRow } from "./store";
import { needNamespace } from "../store/rootless";

/** "SIGTERM", "TERM", "15", "sigkill" → the signal number; undefined if unknown. */
export function signalNumber(text: string): number | undefined {
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    return n >= 1 && n <= 64 ? n : undefined;
  }
  const up = text.toUpperCase();
  const name = up.startsWith("SIG") ? up : `SIG${up}`;
  const n = (constants.signals as Record<string, number>)[name];
  if (n !== undefined) return n;
  const rt = /^SIGRTMIN(?:\+(\d+))?$/.exec(name);
  if (rt) return 34 + Number(rt[1] ?? 0);
  return undefined;
}

/** Sends `signal` to the container's init (the state must allow a kill). */
export function signalContainer(row: ContainerRow, signal: number): void {
  decide("kill", row);
  // Not a state question: the recorded pid must still be the init (its start time) before a
  // signal goes to it; between the init's exit and the cleanup it may be reused.
  if (!sameProcess(row.pid, row.pid_start)) throw new TsdError(`container ${row.name} is not running`);
  try {
    process.kill(row.pid, signal);
  } catch (e) {
    refusedOnHost(e, row);
    if ((e as NodeJS.ErrnoException).code !== "ESRCH") throw e;
  }
}

/** SIGKILL to the init if it is still the recorded one. */
export function killInit(row: ContainerRow): void {
  if (!sameProcess(row.pid, row.pid_start)) return;
  try {
    process.kill(row.pid, "SIGKILL");
  } catch (e) {
    refusedOnHost(e, row);
    throw e;
  }
}

/** The rootless fast path: an init the user may not signal from the host (the kernel lets the
 *  owner of the pause process's user namespace signal every id mapped in it, so this is a
 *  namespace the user does not own) is signalled from inside it: NeedsNamespace. */
function refusedOnHost(e: unknown, row: ContainerRow): void {
  if ((e as NodeJS.ErrnoException).code === "EPERM") needNamespace(`the init of ${row.name} cannot be signalled from the host`);
}

/** Resolves once the monitor is gone (and its cleanup done), or after `timeoutMs`. */
export async function waitForMonitor(row: ContainerRow, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let pause = 5;
  while (sameProcess(row.monitor_pid, row.monitor_start)) {
    if (Date.now() >= deadline) return false;
    await Bun.sleep(pause);
    pause = Math.min(pause * 2, 50);
  }
  return true;
}

/** After the init was killed: the monitor that does not end in `graceMs` is killed too. */
export async function endMonitor(row: ContainerRow, graceMs: number): Promise<void> {
  if (await waitForMonitor(row, graceMs)) return;
  if (sameProcess(row.monitor_pid, row.monitor_start)) process.kill(row.monitor_pid, "SIGKILL");
  await waitForMonitor(row, 2000);
}

/** `<bundle>/stopped`: the user stopped, killed or removed it: the restart policy leaves it alone. */
export function markStoppedByUser(root: string, id: string): void {
  const dir = containerDir(root, id);
  if (existsSync(dir)) writeFileSync(join(dir, "stopped"), "");
}

/** A start under way (its CLI between the lock and the monitor's report) settles first. */
export async function settled(db: Database, root: string, row: ContainerRow): Promise<ContainerRow> {
  let now = row;
  for (let i = 0; i < 500 && stateOf(now) === "starting"; i++) {
    await Bun.sleep(20);
    reconcile(db, root, [now]);
    const next = containerById(db, row.id);
    if (!next) return now;
    now = next;
  }
  return now;
}
