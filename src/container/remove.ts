// Removing a container: refuse a running one unless forced; forced, kill its init and let
// the monitor record the exit before the files and the row go.
import type { Database } from "bun:sqlite";
import { TsdError } from "../errors";
import { removeContainerFiles } from "./create";
import { deleteContainer, findContainer, type ContainerRow } from "./store";

export function isAlive(pid: number): boolean {
  if (pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

export function isRunning(row: ContainerRow): boolean {
  return row.state === "running" && isAlive(row.monitor_pid);
}

export async function removeContainer(db: Database, root: string, ref: string, force: boolean): Promise<void> {
  const row = findContainer(db, ref);
  if (!row) throw new TsdError(`no such container: ${ref}`);
  if (isRunning(row)) {
    if (!force) throw new TsdError(`cannot remove running container ${row.id.slice(0, 12)}: stop it first or use rm -f`);
    try {
      process.kill(row.pid, "SIGKILL");
    } catch {
      // Exited meanwhile.
    }
    for (let i = 0; i < 100 && isAlive(row.monitor_pid); i++) await Bun.sleep(20);
    if (isAlive(row.monitor_pid)) process.kill(row.monitor_pid, "SIGKILL");
  }
  removeContainerFiles(root, row.id);
  deleteContainer(db, row.id);
}
