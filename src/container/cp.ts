// `tsd cp` in both directions: a tar stream through `tsd exec` (the container's own tar, as
// `kubectl cp` does) and the host's GNU tar, joined by a pipe in bash. Docker's naming rules:
// into an existing directory the source keeps its name; otherwise the destination is the new
// name; SRC/. copies a directory's content.
import type { Database } from "bun:sqlite";
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { TsdError } from "../errors";
import { awaitExecReport, prepareExec } from "./exec";
import { mustFind } from "./ops";
import type { ContainerRow } from "./store";

export interface CpEnd {
  container?: string;
  path: string;
}

/** "NAME:PATH" names a container path; anything with a "/" before the ":" is a host path. */
export function parseCpArg(arg: string): CpEnd {
  const colon = arg.indexOf(":");
  if (colon > 0 && !arg.slice(0, colon).includes("/")) return { container: arg.slice(0, colon), path: arg.slice(colon + 1) || "/" };
  return { path: arg };
}

async function pipeline(db: Database, root: string, row: ContainerRow, command: string[], interactive: boolean, script: string, env: Record<string, string>): Promise<void> {
  const { argv, configPath } = prepareExec(db, root, row, { interactive, tty: false, detach: false, env: [], privileged: false, command });
  try {
    const proc = Bun.spawn(["bash", "-c", `set -o pipefail; ${script}`, "bash", ...argv], {
      stdio: ["ignore", "inherit", "pipe", "pipe"],
      env: { PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin", ...env },
    });
    await awaitExecReport(proc);
    const [stderr, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
    if (code !== 0) throw new TsdError(`copy failed: ${stderr.trim().split("\n")[0] || `exit ${code}`}`, 1);
  } finally {
    rmSync(configPath, { force: true });
  }
}

async function containerIsDir(db: Database, root: string, row: ContainerRow, path: string): Promise<boolean> {
  const { argv, configPath } = prepareExec(db, root, row, { interactive: false, tty: false, detach: false, env: [], privileged: false, command: ["test", "-d", path] });
  try {
    const proc = Bun.spawn(argv, { stdio: ["ignore", "ignore", "ignore", "pipe"] });
    await awaitExecReport(proc);
    return (await proc.exited) === 0;
  } finally {
    rmSync(configPath, { force: true });
  }
}

export async function copy(db: Database, root: string, src: CpEnd, dest: CpEnd): Promise<void> {
  if ((src.container === undefined) === (dest.container === undefined)) {
    throw new TsdError("copying between containers or within the host is not supported: one of SRC and DEST must be CONTAINER:PATH", 1);
  }
  if (src.container !== undefined) return fromContainer(db, root, mustFind(db, root, src.container), src.path, dest.path);
  return toContainer(db, root, mustFind(db, root, dest.container!), src.path, dest.path);
}

async function fromContainer(db: Database, root: string, row: ContainerRow, path: string, destArg: string): Promise<void> {
  const dest = resolve(destArg);
  const contents = path.endsWith("/.");
  const srcDir = contents ? path.slice(0, -2) || "/" : dirname(path);
  const srcName = contents ? "." : basename(path);
  const tarC = ["tar", "c", "-C", srcDir, srcName];
  if (contents || (existsSync(dest) && statSync(dest).isDirectory())) {
    if (!existsSync(dest)) mkdirSync(dest, { recursive: true });
    return pipeline(db, root, row, tarC, false, `"$@" | tar -x --no-same-owner -C "$DEST"`, { DEST: dest });
  }
  if (!existsSync(dirname(dest))) throw new TsdError(`the destination directory "${dirname(dest)}" does not exist: create it first`, 1);
  // A new name: unpack beside the destination, then rename into place.
  const tmp = mkdtempSync(join(dirname(dest), ".tsd-cp-"));
  try {
    await pipeline(db, root, row, tarC, false, `"$@" | tar -x --no-same-owner -C "$DEST"`, { DEST: tmp });
    if (existsSync(dest) && statSync(dest).isDirectory()) throw new TsdError(`cannot overwrite directory "${dest}" with a file`, 1);
    renameSync(join(tmp, srcName === "/" ? "" : srcName), dest);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

async function toContainer(db: Database, root: string, row: ContainerRow, srcArg: string, path: string): Promise<void> {
  const src = resolve(srcArg);
  if (!existsSync(src)) throw new TsdError(`no such file or directory: "${srcArg}"`, 1);
  const contents = srcArg.endsWith("/.");
  const destIsDir = await containerIsDir(db, root, row, path);
  if (destIsDir || contents) {
    const script = `tar -c -C "$SRCDIR" "$NAME" | "$@"`;
    return pipeline(db, root, row, ["tar", "x", "-C", path], true, script, { SRCDIR: contents ? src : dirname(src), NAME: contents ? "." : basename(src) });
  }
  // A new name in the container: rename the top entry inside the stream.
  const name = basename(src);
  const escaped = name.replace(/[\\^$.*+?()[\]{}|,]/g, "\\$&");
  const script = `tar -c -C "$SRCDIR" --transform "s,^$FROM,$TO," "$NAME" | "$@"`;
  return pipeline(db, root, row, ["tar", "x", "-C", dirname(path)], true, script, { SRCDIR: dirname(src), NAME: name, FROM: escaped, TO: basename(path) });
}
