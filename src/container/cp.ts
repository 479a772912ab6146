// `tsd cp` in both directions, done by tsd itself (zig/monitor/copy.zig), never by a program of
// the container: the container side is walked or written fd-relative under its root (openat2
// RESOLVE_IN_ROOT, symlinks packed as symlinks), the host side extracted with the layer
// unpacker's containment (nothing outside the destination, no setuid bits, no device nodes,
// owned by the invoking user unless -a). Docker's naming rules: into an existing directory the
// source keeps its name; otherwise the destination is the new name; SRC/. copies a
// directory's content.
import type { Database } from "bun:sqlite";
import { existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { TsdError } from "../errors";
import { bundleProcsPaths } from "../cgroup";
import { overlayArgs, runMonitor } from "./helper";
import { mustFind } from "./ops";
import { withContainerLockAsync } from "./lock";
import { isRunning, startUnderWay } from "./state";
import { sameProcess } from "./proc";
import { containerById } from "./store";
import { containerDir } from "../store/paths";
import type { ContainerRow } from "./store";

export interface CpEnd {
  container?: string;
  path: string;
}

export interface CpOptions {
  /** -a: keep the archive's ownership (and setuid/setgid bits) instead of the destination's user. */
  archive?: boolean;
}

/** "NAME:PATH" names a container path; anything with a "/" before the ":" is a host path. */
export function parseCpArg(arg: string): CpEnd {
  const colon = arg.indexOf(":");
  if (colon > 0 && !arg.slice(0, colon).includes("/")) return { container: arg.slice(0, colon), path: arg.slice(colon + 1) || "/" };
  return { path: arg };
}

/** How the helper reaches the container's files: `--pack`/`--copy` CONTAINER arguments. */
export function containerArgs(root: string, row: ContainerRow, opts: { readOnly: boolean }): string[] {
  if (isRunning(row)) {
    if (!row.pid_start || !sameProcess(row.pid, row.pid_start)) throw new TsdError(`container ${row.name} is not running any more: retry the copy`, 1);
    const procs = bundleProcsPaths(containerDir(root, row.id));
    return ["--pid", String(row.pid), "--pid-start", row.pid_start, ...(procs.length > 0 ? ["--cgroup-procs", procs.join(":")] : [])];
  }
  return overlayArgs(root, row.id, opts.readOnly);
}

async function runHelper(args: string[]): Promise<void> {
  return runMonitor(args, "ignore", "copy failed", 1);
}

/** A running container as it is; a stopped one under its lock (no start meanwhile). */
async function withContainer(db: Database, root: string, ref: string, fn: (row: ContainerRow) => Promise<void>): Promise<void> {
  const row = mustFind(db, root, ref);
  if (isRunning(row)) return fn(row);
  return withContainerLockAsync(root, row.id, async () => {
    const now = containerById(db, row.id);
    if (!now) throw new TsdError(`no such container: ${ref}`, 1);
    if (!isRunning(now) && startUnderWay(now)) throw new TsdError(`container ${now.name} is being started: retry the copy`, 1);
    return fn(now);
  });
}

export async function copy(db: Database, root: string, src: CpEnd, dest: CpEnd, opts: CpOptions = {}): Promise<void> {
  if ((src.container === undefined) === (dest.container === undefined)) {
    throw new TsdError("copying between containers or within the host is not supported: one of SRC and DEST must be CONTAINER:PATH", 1);
  }
  if (src.container !== undefined) return withContainer(db, root, src.container, (row) => fromContainer(root, row, src.path, dest.path, opts));
  return withContainer(db, root, dest.container!, (row) => toContainer(root, row, src.path, dest.path, opts));
}

/** Where a copy out of the container lands and under which name ("" = the source's contents). */
export function hostTarget(srcPath: string, destArg: string, destIsDir: boolean): { dir: string; name: string } {
  const dest = resolve(destArg);
  const contents = srcPath.endsWith("/.") || srcPath === "/" || srcPath === "";
  if (contents) return { dir: dest, name: "" };
  if (destIsDir) return { dir: dest, name: basename(srcPath.replace(/\/+$/, "")) };
  return { dir: dirname(dest), name: basename(dest) };
}

/** The container source as its parent directory and base name ("." for a directory's contents). */
export function containerSource(path: string): { dir: string; name: string } {
  const p = path.startsWith("/") ? path : `/${path}`;
  if (p.endsWith("/.")) return { dir: p.slice(0, -2) || "/", name: "." };
  const trimmed = p.replace(/\/+$/, "") || "/";
  if (trimmed === "/") return { dir: "/", name: "." };
  return { dir: dirname(trimmed), name: basename(trimmed) };
}

async function fromContainer(root: string, row: ContainerRow, path: string, destArg: string, opts: CpOptions): Promise<void> {
  const dest = resolve(destArg);
  const destIsDir = existsSync(dest) && statSync(dest).isDirectory();
  const target = hostTarget(path, destArg, destIsDir);
  if (target.name === "") mkdirSync(target.dir, { recursive: true });
  else if (!existsSync(target.dir)) throw new TsdError(`the destination directory "${target.dir}" does not exist: create it first`, 1);
  const src = containerSource(path);
  await runHelper([
    "--copy",
    "out",
    ...containerArgs(root, row, { readOnly: true }),
    "--container-dir",
    src.dir,
    "--container-name",
    src.name,
    "--host-dir",
    target.dir,
    "--name",
    target.name,
    "--uid",
    String(process.getuid?.() ?? 0),
    "--gid",
    String(process.getgid?.() ?? 0),
    ...(opts.archive ? ["--archive"] : []),
  ]);
}

async function toContainer(root: string, row: ContainerRow, srcArg: string, path: string, opts: CpOptions): Promise<void> {
  const src = resolve(srcArg);
  if (!existsSync(src)) throw new TsdError(`no such file or directory: "${srcArg}"`, 1);
  const contents = srcArg.endsWith("/.");
  await runHelper([
    "--copy",
    "in",
    ...containerArgs(root, row, { readOnly: false }),
    "--container-path",
    path.startsWith("/") ? path : `/${path}`,
    "--host-dir",
    contents ? src : dirname(src),
    "--host-name",
    contents ? "." : basename(src),
    "--name",
    contents ? "" : basename(src),
    ...(opts.archive ? ["--archive"] : []),
  ]);
}
