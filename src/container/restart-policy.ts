// --restart: Docker's policies, decided after each exit by the cleanup command the container's
// monitor runs (no daemon). Pure parts here, unit-tested.
import { UsageError } from "../errors";

export interface RestartPolicy {
  name: "no" | "on-failure" | "always" | "unless-stopped";
  /** on-failure:N; 0 = no limit. */
  maximumRetryCount: number;
}

export function parseRestartPolicy(text: string): RestartPolicy {
  const [name, count, ...rest] = text.split(":");
  if (rest.length > 0) throw new UsageError(`invalid restart policy "${text}": use no, on-failure[:N], always or unless-stopped`);
  if (name === "on-failure") {
    if (count !== undefined && !/^\d+$/.test(count)) throw new UsageError(`invalid restart policy "${text}": the retry count must be a number`);
    return { name, maximumRetryCount: count === undefined ? 0 : Number(count) };
  }
  if (name === "no" || name === "always" || name === "unless-stopped") {
    if (count !== undefined) throw new UsageError(`invalid restart policy "${text}": only on-failure takes a retry count`);
    return { name, maximumRetryCount: 0 };
  }
  throw new UsageError(`invalid restart policy "${text}": use no, on-failure[:N], always or unless-stopped`);
}

/**
 * Whether to start the container again after an exit. A container the user stopped (stop,
 * kill, rm) is not restarted; without a daemon, always and unless-stopped behave the same.
 */
export function shouldRestart(p: RestartPolicy | undefined, exitCode: number, restartCount: number, stoppedByUser: boolean): boolean {
  if (!p || p.name === "no" || stoppedByUser) return false;
  if (p.name === "on-failure") return exitCode !== 0 && (p.maximumRetryCount === 0 || restartCount < p.maximumRetryCount);
  return true;
}

/** Docker's back-off: 100 ms doubling per restart, at most 10 s here (a monitor waits it out). */
export function restartDelayMs(restartCount: number): number {
  return Math.min(100 * 2 ** Math.min(restartCount, 20), 10000);
}
