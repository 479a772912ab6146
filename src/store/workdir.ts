// Scratch directories under <root>/tmp for one command (load, import, commit): named
// KIND-PID-RANDOM so that the next command can tell an abandoned one (its owner was killed,
// e.g. a timed-out load) from one in use, and sweep it.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { rootPaths } from "./paths";

const WORK_KINDS = ["load", "import", "layer", "build"] as const;
export type WorkKind = (typeof WORK_KINDS)[number];

/** A new private scratch directory of this process. */
export function makeWorkDir(root: string, kind: WorkKind): string {
  const tmp = rootPaths(root).tmp;
  mkdirSync(tmp, { recursive: true, mode: 0o700 });
  return mkdtempSync(join(tmp, `${kind}-${process.pid}-`));
}

/** The pid that owns a scratch directory by its name, or undefined for any other name. */
export function workDirOwner(name: string): number | undefined {
  const m = /^([a-z]+)-(\d{1,10})-[A-Za-z0-9]{6}$/.exec(name);
  if (!m || !(WORK_KINDS as readonly string[]).includes(m[1]!)) return undefined;
  const pid = Number(m[2]);
  return pid > 0 ? pid : undefined;
}

/**
 * Scratch directories of tsd before their names carried the owner (KIND-XXXXXX): removed
 * once older than any command could take.
 */
export function isLegacyWorkDir(name: string): boolean {
  return /^(load|stdin|out|import|layer)-[A-Za-z0-9]{6}$/.test(name);
}
const LEGACY_MAX_AGE_MS = 24 * 3600 * 1000;

/** Removes the scratch directories whose owner process is gone. */
export function sweepStaleWorkDirs(root: string): void {
  const tmp = rootPaths(root).tmp;
  let names: string[];
  try {
    names = readdirSync(tmp);
  } catch {
    return;
  }
  for (const name of names) {
    if (isLegacyWorkDir(name)) {
      try {
        if (Date.now() - statSync(join(tmp, name)).mtimeMs > LEGACY_MAX_AGE_MS) rmSync(join(tmp, name), { recursive: true, force: true });
      } catch {
        // Gone meanwhile.
      }
      continue;
    }
    const pid = workDirOwner(name);
    if (pid === undefined || pid === process.pid || processAlive(pid)) continue;
    rmSync(join(tmp, name), { recursive: true, force: true });
  }
}

/** A reused pid only delays the sweep of its directory to a later command. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}
