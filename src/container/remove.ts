// Kept for the commands that import from here; the lifecycle lives in state.ts and ops.ts.
import type { Database } from "bun:sqlite";
import { removeContainer as remove } from "./ops";

export { isRunning } from "./state";

export function isAlive(pid: number): boolean {
  if (pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

export async function removeContainer(db: Database, root: string, ref: string, force: boolean, volumes = false): Promise<void> {
  await remove(db, root, ref, force, volumes);
}
