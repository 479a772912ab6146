// `tsd cp` in both directions: a tar stream through `tsd exec` (the container's own tar, as
// `kubectl cp` does) and the host's GNU tar, joined by a pipe in bash. Docker's naming rules:
// into an existing directory the source keeps its name; otherwise the destination is the new
// name; SRC/. copies a directory's content.
import type { Database } from "bun:sqlite";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { TsdError } from "../errors";
import { awaitExecReport, prepareExec } from "./exec";
import { mustFind } from "./ops";
import { withContainerLockAsync } from "./lock";
import { isRunning } from "./state";
import { findContainer } from "./store";
import { containerDir } from "../store/paths";
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

/** How a command runs in the container: through exec (running), or chrooted into its rootfs
 *  mounted in a private mount namespace of a short-lived `unshare -m` (stopped). */
interface Runner {
  argv(command: string[], interactive: boolean): { argv: string[]; done(): void; reports: boolean };
}

function execRunner(db: Database, root: string, row: ContainerRow): Runner {
  return {
    argv(command, interactive) {
      const { argv, done } = prepareExec(db, root, row, { interactive, tty: false, detach: false, env: [], privileged: false, command });
      return { argv, reports: true, done };
    },
  };
}

/**
 * A stopped container's rootfs: the overlay its config.json describes, mounted only inside a
 * new mount namespace (gone with the process), the command chrooted there so the container's
 * own symlinks resolve inside it, never to host paths.
 */
function rootfsRunner(root: string, row: ContainerRow): Runner {
  const spec = JSON.parse(readFileSync(join(containerDir(root, row.id), "config.json"), "utf8")) as { root: { path: string }; annotations?: Record<string, string> };
  const overlay = spec.annotations?.["io.tsd.rootfs.overlay"];
  const dir = spec.annotations?.["io.tsd.rootfs.dir"] ?? "/";
  const merged = spec.root.path;
  const mount = overlay ? 'cd "$1" && mount -t overlay overlay -o "$2" "$3" && ' : "";
  return {
    argv(command) {
      return {
        argv: ["unshare", "-m", "--propagation", "private", "sh", "-c", `${mount}m="$3"; shift 3; exec chroot "$m" "$@"`, "tsd-cp", dir, overlay ?? "", merged, ...command],
        reports: false,
        done: () => {},
      };
    },
  };
}

async function pipeline(runner: Runner, command: string[], interactive: boolean, script: string, env: Record<string, string>): Promise<void> {
  const { argv, done, reports } = runner.argv(command, interactive);
  try {
    const proc = Bun.spawn(["bash", "-c", `set -o pipefail; ${script}`, "bash", ...argv], {
      stdio: ["ignore", "inherit", "pipe", reports ? "pipe" : "ignore"],
      env: { PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin", ...env },
    });
    if (reports) await awaitExecReport(proc);
    const [stderr, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
    if (code !== 0) throw new TsdError(`copy failed: ${stderr.trim().split("\n")[0] || `exit ${code}`}`, 1);
  } finally {
    done();
  }
}

async function containerIsDir(runner: Runner, path: string): Promise<boolean> {
  const { argv, done, reports } = runner.argv(["test", "-d", path], false);
  try {
    const proc = Bun.spawn(argv, { stdio: ["ignore", "ignore", "ignore", reports ? "pipe" : "ignore"] });
    if (reports) await awaitExecReport(proc);
    return (await proc.exited) === 0;
  } finally {
    done();
  }
}

/** A running container through exec; a stopped one through its rootfs, under its lock (no start meanwhile). */
async function withRunner(db: Database, root: string, ref: string, fn: (r: Runner) => Promise<void>): Promise<void> {
  const row = mustFind(db, root, ref);
  if (isRunning(row)) return fn(execRunner(db, root, row));
  return withContainerLockAsync(root, row.id, async () => {
    const now = findContainer(db, row.id);
    if (!now || now.id !== row.id) throw new TsdError(`no such container: ${ref}`, 1);
    if (isRunning(now)) return fn(execRunner(db, root, now));
    if (now.state === "created" && now.monitor_pid !== 0) throw new TsdError(`container ${now.name} is being started: retry the copy`, 1);
    return fn(rootfsRunner(root, now));
  });
}

export async function copy(db: Database, root: string, src: CpEnd, dest: CpEnd): Promise<void> {
  if ((src.container === undefined) === (dest.container === undefined)) {
    throw new TsdError("copying between containers or within the host is not supported: one of SRC and DEST must be CONTAINER:PATH", 1);
  }
  if (src.container !== undefined) return withRunner(db, root, src.container, (r) => fromContainer(r, src.path, dest.path));
  return withRunner(db, root, dest.container!, (r) => toContainer(r, src.path, dest.path));
}

async function fromContainer(runner: Runner, path: string, destArg: string): Promise<void> {
  const dest = resolve(destArg);
  const contents = path.endsWith("/.");
  const srcDir = contents ? path.slice(0, -2) || "/" : dirname(path);
  const srcName = contents ? "." : basename(path);
  const tarC = ["tar", "c", "-C", srcDir, srcName];
  if (contents || (existsSync(dest) && statSync(dest).isDirectory())) {
    if (!existsSync(dest)) mkdirSync(dest, { recursive: true });
    return pipeline(runner, tarC, false, `"$@" | tar -x --no-same-owner -C "$DEST"`, { DEST: dest });
  }
  if (!existsSync(dirname(dest))) throw new TsdError(`the destination directory "${dirname(dest)}" does not exist: create it first`, 1);
  // A new name: unpack beside the destination, then rename into place.
  const tmp = mkdtempSync(join(dirname(dest), ".tsd-cp-"));
  try {
    await pipeline(runner, tarC, false, `"$@" | tar -x --no-same-owner -C "$DEST"`, { DEST: tmp });
    if (existsSync(dest) && statSync(dest).isDirectory()) throw new TsdError(`cannot overwrite directory "${dest}" with a file`, 1);
    renameSync(join(tmp, srcName === "/" ? "" : srcName), dest);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

async function toContainer(runner: Runner, srcArg: string, path: string): Promise<void> {
  const src = resolve(srcArg);
  if (!existsSync(src)) throw new TsdError(`no such file or directory: "${srcArg}"`, 1);
  const contents = srcArg.endsWith("/.");
  const destIsDir = await containerIsDir(runner, path);
  if (destIsDir || contents) {
    const script = `tar -c -C "$SRCDIR" "$NAME" | "$@"`;
    return pipeline(runner, ["tar", "x", "-C", path], true, script, { SRCDIR: contents ? src : dirname(src), NAME: contents ? "." : basename(src) });
  }
  // A new name in the container: rename the top entry inside the stream.
  const name = basename(src);
  const escaped = name.replace(/[\\^$.*+?()[\]{}|,]/g, "\\$&");
  const script = `tar -c -C "$SRCDIR" --transform "s,^$FROM,$TO," "$NAME" | "$@"`;
  return pipeline(runner, ["tar", "x", "-C", dirname(path)], true, script, { SRCDIR: dirname(src), NAME: name, FROM: escaped, TO: basename(path) });
}
