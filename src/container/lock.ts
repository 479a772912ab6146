// Per-container lock files (<root>/locks/<id>.lock, flock): start, stop, rm, cleanup and the
// reconcile of a dead monitor serialise on one container, not on the whole database.
import { closeSync, mkdirSync, openSync, rmSync } from "node:fs";
import { join } from "node:path";
import { flockExclusive } from "../native/libc";

export function lockPath(root: string, id: string): string {
  return join(root, "locks", `${id}.lock`);
}

export function withContainerLock<T>(root: string, id: string, fn: () => T): T {
  mkdirSync(join(root, "locks"), { recursive: true, mode: 0o700 });
  const fd = openSync(lockPath(root, id), "a");
  try {
    flockExclusive(fd);
    return fn();
  } finally {
    closeSync(fd);
  }
}

export async function withContainerLockAsync<T>(root: string, id: string, fn: () => Promise<T>): Promise<T> {
  mkdirSync(join(root, "locks"), { recursive: true, mode: 0o700 });
  const fd = openSync(lockPath(root, id), "a");
  try {
    flockExclusive(fd);
    return await fn();
  } finally {
    closeSync(fd);
  }
}

/** The lock file goes with the container (after its row). */
export function removeLockFile(root: string, id: string): void {
  rmSync(lockPath(root, id), { force: true });
}
