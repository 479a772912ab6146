// `tsd cp` in both directions, done by tsd itself (zig/monitor/copy.zig), never by a program of
// the container: the container side is walked or written fd-relative under its root (openat2
// RESOLVE_IN_ROOT, symlinks packed as symlinks), the host side extracted with the layer
// unpacker's containment (nothing outside the destination, no setuid bits, no device nodes,
// owned by the invoking user unless -a). Docker's naming rules: into an existing directory the
// source keeps its name; otherwise the destination is the new name; SRC/. copies a
// directory's content; a trailing "/" asserts a directory (a file source named so, or a file
// copied to a missing DEST/, is an error), and a directory never replaces a file. "-" streams:
// `cp CONTAINER:PATH -` writes a tar on stdout (entries named as docker names them: the base
// name, "." for contents), `cp - CONTAINER:DIR` extracts one from stdin into an existing
// directory with the same containment.
import type { Database } from "bun:sqlite";
import { lstatSync, statSync, type Stats } from "node:fs";
import { isatty } from "../io";
import { basename, dirname, join, resolve } from "node:path";
import { TsdError } from "../errors";
import { bundleProcsPaths } from "../cgroup";
import { overlayArgs } from "./helper";
import { runMonitor } from "../native/helper";
import { mustFind } from "./resolve";
import { withContainerLockAsync } from "./lock";
import { decide } from "./state";
import { sameProcess } from "./proc";
import { containerById } from "./store";
import { containerDir } from "../store/paths";
import type { ContainerRow } from "./store";
import { writeOutput } from "../image/output";

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
  if (decide("copy", row) === "live") {
    // The helper enters the init's namespaces by pid + start time: it must still be the init.
    if (!row.pid_start || !sameProcess(row.pid, row.pid_start)) throw new TsdError(`container ${row.name} is not running any more: retry the copy`, 1);
    const procs = bundleProcsPaths(containerDir(root, row.id));
    return ["--pid", String(row.pid), "--pid-start", row.pid_start, ...(procs.length > 0 ? ["--cgroup-procs", procs.join(":")] : [])];
  }
  return overlayArgs(root, row.id, opts.readOnly);
}

async function runHelper(args: string[], stdin: "ignore" | "inherit" = "ignore"): Promise<void> {
  return runMonitor(args, "ignore", "copy failed", 1, stdin);
}

/** A running container as it is; a stopped one under its lock (no start meanwhile). */
async function withContainer(db: Database, root: string, ref: string, fn: (row: ContainerRow) => Promise<void>): Promise<void> {
  const row = mustFind(db, root, ref);
  if (decide("copy", row, ref) === "live") return fn(row);
  return withContainerLockAsync(root, row.id, async () => {
    // Removed, or started, since the look-up: decided again on the row as it is now.
    const now = containerById(db, row.id);
    if (!now) throw new TsdError(`no such container: ${ref}`, 1);
    decide("copy", now, ref);
    return fn(now);
  });
}

/** "-" as SRC (a tar on stdin) or DEST (a tar on stdout), as docker cp takes it. */
export function isStdio(end: CpEnd): boolean {
  return end.container === undefined && end.path === "-";
}

export async function copy(db: Database, root: string, src: CpEnd, dest: CpEnd, opts: CpOptions = {}): Promise<void> {
  if ((src.container === undefined) === (dest.container === undefined)) {
    const what = isStdio(src) || isStdio(dest) ? "\"-\" goes with CONTAINER:PATH on the other side" : "copying between containers or within the host is not supported";
    throw new TsdError(`${what}: one of SRC and DEST must be CONTAINER:PATH`, 1);
  }
  if (src.container !== undefined) {
    if (isStdio(dest)) return withContainer(db, root, src.container, (row) => toStdout(root, row, src.path));
    return withContainer(db, root, src.container, (row) => fromContainer(root, row, src.path, dest.path, opts));
  }
  if (isStdio(src)) {
    // isatty, not process.stdin: touching that makes Bun switch stdin to non-blocking.
    if (isatty(0)) throw new TsdError(`tsd cp - reads a tar archive from stdin, and stdin is a terminal: pipe one in (tar -c DIR | tsd cp - ${dest.container}:${dest.path})`, 1);
    return withContainer(db, root, dest.container!, (row) => fromStdin(root, row, dest.path, opts));
  }
  return withContainer(db, root, dest.container!, (row) => toContainer(root, row, src.path, dest.path, opts));
}

/** Where a copy out of the container lands and under which name ("" = the source's contents). */
export function hostTarget(srcPath: string, destArg: string, destIsDir: boolean): { dir: string; name: string } {
  const dest = resolve(destArg);
  const contents = srcPath.endsWith("/.") || srcPath === "/" || srcPath === "";
  if (destIsDir) return { dir: dest, name: contents ? "" : basename(srcPath.replace(/\/+$/, "")) };
  return { dir: dirname(dest), name: basename(dest) };
}

/** The top name of `cp CONTAINER:PATH -`'s tar, as docker's: the base name, "." for contents. */
export function streamName(path: string): string {
  return containerSource(path).name;
}

/** A source named with a trailing "/" (or "/.") must be a directory, as docker cp checks. */
export function namesDirectory(path: string): boolean {
  return path.length > 1 && (path.endsWith("/") || path.endsWith("/."));
}

/** The container source as its parent directory and base name ("." for a directory's contents). */
export function containerSource(path: string): { dir: string; name: string } {
  const p = path.startsWith("/") ? path : `/${path}`;
  if (p.endsWith("/.")) return { dir: p.slice(0, -2) || "/", name: "." };
  const trimmed = p.replace(/\/+$/, "") || "/";
  if (trimmed === "/") return { dir: "/", name: "." };
  return { dir: dirname(trimmed), name: basename(trimmed) };
}

/** The host destination's state: absent, a directory, or something else (a file, a link). */
function hostDest(destArg: string): Stats | undefined {
  try {
    return statSync(destArg);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return undefined;
    if (code === "ENOTDIR") throw new TsdError(`"${destArg}" is not a directory (a path in it names a file)`, 1);
    throw new TsdError(`cannot use "${destArg}": ${(e as Error).message}`, 1);
  }
}

async function fromContainer(root: string, row: ContainerRow, path: string, destArg: string, opts: CpOptions): Promise<void> {
  const st = hostDest(destArg);
  const target = hostTarget(path, destArg, st?.isDirectory() ?? false);
  let parent: Stats | undefined;
  try {
    parent = statSync(target.dir);
  } catch {
    parent = undefined;
  }
  if (!parent?.isDirectory()) throw new TsdError(`the destination directory "${target.dir}" does not exist: create it first`, 1);
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
    ...(namesDirectory(path) ? ["--source-dir"] : []),
    ...(st && !st.isDirectory() ? ["--dest-file"] : []),
    ...(!st && destArg.endsWith("/") ? ["--dest-dir"] : []),
    ...(opts.archive ? ["--archive"] : []),
  ]);
}

/** `tsd cp CONTAINER:PATH -`: a tar of the source on stdout, streamed (a reader that goes
 *  away ends the copy at once, 141, as save and export). */
async function toStdout(root: string, row: ContainerRow, path: string): Promise<void> {
  const src = containerSource(path);
  const args = ["--copy", "out", "--stdio", ...containerArgs(root, row, { readOnly: true }), "--container-dir", src.dir, "--container-name", src.name, "--name", streamName(path)];
  if (namesDirectory(path)) args.push("--source-dir");
  await writeOutput(undefined, (fd) => runMonitor(args, fd, "copy failed", 1)).catch((e) => {
    // cp's errors exit 1, as docker cp's (a full device too).
    throw e instanceof TsdError ? new TsdError(e.message, 1) : e;
  });
}

/** `tsd cp - CONTAINER:PATH`: a tar from stdin into PATH, which must be an existing
 *  directory, with cp's containment (nothing written outside it, owned by root unless -a). */
async function fromStdin(root: string, row: ContainerRow, path: string, opts: CpOptions): Promise<void> {
  const dest = path.startsWith("/") ? path : `/${path}`;
  await runHelper(["--copy", "in", "--stdio", ...containerArgs(root, row, { readOnly: false }), "--container-path", dest, ...(opts.archive ? ["--archive"] : [])], "inherit");
}

async function toContainer(root: string, row: ContainerRow, srcArg: string, path: string, opts: CpOptions): Promise<void> {
  const src = resolve(srcArg);
  let st: Stats;
  try {
    // lstat: a symlink is copied as a symlink; a trailing "/" makes the kernel follow it.
    st = lstatSync(srcArg);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOTDIR") throw new TsdError(`"${srcArg}" is not a directory (drop the trailing "/" to copy the file)`, 1);
    throw new TsdError(`no such file or directory: "${srcArg}"`, 1);
  }
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
    ...(st.isDirectory() ? ["--source-dir"] : path.endsWith("/") ? ["--dest-dir"] : []),
    ...(opts.archive ? ["--archive"] : []),
  ]);
}
