// The OCI-runtime mode's state (docs/ARCHITECTURE.md "The OCI-runtime mode"): one directory
// per container under --root, keyed by id, holding our record (state.json, written atomically),
// the start rendezvous (exec.fifo, while created), the hooks' state prefix and the lock every
// verb that changes the container takes. The status is derived from the record and the kernel,
// never stored: a stored status would be wrong the moment the init exits under its reaper.
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { flockExclusive } from "../native/libc";
import { TsdError } from "../errors";
import { cgroupFrozen } from "../cgroup/frozen";

export interface RuntimeRecord {
  ociVersion: string;
  id: string;
  /** The container's init (0 once known to be gone). */
  pid: number;
  /** Field 22 of /proc/PID/stat: a recycled pid is not the init. */
  pidStart: string;
  bundle: string;
  /** Absolute. */
  rootfs: string;
  /** RFC3339 with nanoseconds. */
  created: string;
  annotations: Record<string, string>;
  owner: string;
  /** paths: the container's cgroup directories, absolute (hostDriver().dirs(group): one for
   *  v2, one per hierarchy for v1). systemd: made as a systemd scope (--systemd-cgroup). */
  cgroup: { paths: string[]; systemd: boolean };
  terminal: boolean;
}

export type RuntimeStatus = "created" | "running" | "paused" | "stopped";

export const STATE_FILE = "state.json";
export const FIFO_FILE = "exec.fifo";
export const HOOK_STATE_FILE = "hook-state";
export const LOCK_FILE = "lock";

/** runc's container id rule. */
export const ID_PATTERN = /^[\w+\-.]+$/;

export function checkId(id: string): void {
  if (!id) throw new TsdError("container id cannot be empty");
  if (!ID_PATTERN.test(id) || id === "." || id === "..") throw new TsdError(`invalid container id format: ${id}`);
}

export function containerDir(root: string, id: string): string {
  checkId(id);
  return join(root, id);
}

export function doesNotExist(id: string): TsdError {
  return new TsdError(`container "${id}" does not exist`);
}

/** The record of `id`; throws `container "ID" does not exist` when there is none (yet). */
export function readRecord(root: string, id: string): RuntimeRecord {
  let text: string;
  try {
    text = readFileSync(join(containerDir(root, id), STATE_FILE), "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT" || (e as NodeJS.ErrnoException).code === "ENOTDIR") throw doesNotExist(id);
    throw e;
  }
  try {
    return JSON.parse(text) as RuntimeRecord;
  } catch {
    throw new TsdError(`container "${id}": its state file ${join(root, id, STATE_FILE)} is not valid JSON (delete the container with --force)`);
  }
}

/** Writes the record atomically (a temporary file renamed over the old one). */
export function writeRecord(root: string, rec: RuntimeRecord): void {
  const dir = containerDir(root, rec.id);
  mkdirSync(dir, { recursive: true, mode: 0o711 });
  const tmp = join(dir, `.${STATE_FILE}.${process.pid}`);
  writeFileSync(tmp, JSON.stringify(rec), { mode: 0o600 });
  renameSync(tmp, join(dir, STATE_FILE));
}

/** The process state letter and field 22 of /proc/PID/stat, or undefined without such a pid. */
export function procStat(pid: number): { state: string; start: string } | undefined {
  if (!(pid > 0)) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // comm may hold spaces and parentheses: the fields start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return { state: fields[0] ?? "", start: fields[19] ?? "" };
  } catch {
    return undefined;
  }
}

/** Whether the record's init still lives: same pid, same start time, not a zombie (an init
 *  that exited but is not reaped yet by the caller's subreaper is stopped, as runc says). */
export function initAlive(rec: RuntimeRecord): boolean {
  const st = procStat(rec.pid);
  return st !== undefined && st.start === rec.pidStart && st.state !== "Z" && st.state !== "X";
}

/** Derived, never stored: stopped (the init gone), created (the exec fifo), paused (the group
 *  frozen), else running. */
export function statusOf(root: string, rec: RuntimeRecord): RuntimeStatus {
  if (!initAlive(rec)) return "stopped";
  if (existsSync(join(containerDir(root, rec.id), FIFO_FILE))) return "created";
  if (cgroupFrozen(rec.cgroup?.paths ?? [])) return "paused";
  return "running";
}

/** The OCI state `state` prints (runc's field order; pid 0 once stopped). */
export function ociState(root: string, rec: RuntimeRecord): object {
  const status = statusOf(root, rec);
  return {
    ociVersion: rec.ociVersion,
    id: rec.id,
    pid: status === "stopped" ? 0 : rec.pid,
    status,
    bundle: rec.bundle,
    rootfs: rec.rootfs,
    created: rec.created,
    ...(rec.annotations && Object.keys(rec.annotations).length > 0 ? { annotations: rec.annotations } : {}),
    owner: rec.owner,
  };
}

/** Runs `fn` holding the container's lock (<root>/<id>/lock, flock), made with its directory
 *  when missing: create takes it before state.json exists. Released when `fn` settles. */
export async function withLock<T>(root: string, id: string, fn: () => Promise<T>): Promise<T> {
  const dir = containerDir(root, id);
  mkdirSync(dir, { recursive: true, mode: 0o711 });
  return await locked(dir, fn);
}

/** withLock for a container that must exist: its directory is never made (a verb racing a
 *  delete leaves nothing behind), and its record is read under the lock and handed to `fn`. */
export async function withRecord<T>(root: string, id: string, fn: (rec: RuntimeRecord) => Promise<T>): Promise<T> {
  const dir = containerDir(root, id);
  try {
    return await locked(dir, async () => await fn(readRecord(root, id)));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT" && (e as NodeJS.ErrnoException).path === join(dir, LOCK_FILE)) throw doesNotExist(id);
    throw e;
  }
}

async function locked<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  const fd = openSync(join(dir, LOCK_FILE), "a", 0o600);
  try {
    flockExclusive(fd);
    return await fn();
  } finally {
    closeSync(fd);
  }
}
