// RUN: a container from the stage's current image through tsd's own create/start path (the
// stage's env with its ARGs, user, working directory, the build's network), its output on the
// CLI's stdout, then its upper dir as the step's layer. The container goes however the step
// ends (a failing command, a signal to the CLI).
import type { Database } from "bun:sqlite";
import { closeSync, openSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { randomId } from "../store/ids";
import { rootPaths } from "../store/paths";
import { TsdError } from "../errors";
import type { ImageRecord } from "../image/store";
import { removeContainerFiles } from "./create";
import { createWithMeta } from "./meta-create";
import { releaseContainer } from "./network";
import type { BindMount, RunOptions, TmpfsMount } from "./options";
import { startAttached } from "./start";
import { containerById, deleteContainer } from "./store";
import { removeContainer } from "./remove";
import { containerEvent } from "./events";

/** A signal to the build: the RUN container under way is killed, the build ends 128+N. */
export interface Abort {
  signal?: number;
  /** The RUN containers under way (stages build at once). */
  containers: Set<string>;
}

/** Ends the build with the signal's status once a step returns. */
export function checkAbort(a: Abort): void {
  if (a.signal !== undefined) throw new TsdError("the build was interrupted: nothing of the step under way was kept", 128 + a.signal);
}

export interface RunStep {
  argv: string[];
  env: string[];
  user?: string;
  workdir?: string;
  network?: string;
  /** RUN --mount's binds and tmpfs (nothing of them goes into the layer). */
  volumes?: BindMount[];
  tmpfs?: TmpfsMount[];
  quiet: boolean;
  out: (line: string) => void;
  /** Whether `out` reaches the terminal now; if not, the RUN's output is kept in a file and
   *  handed to `out` line by line when it ends. */
  live?: () => boolean;
  abort: Abort;
}

function runOptions(image: ImageRecord, s: RunStep & { outputFd?: number }): RunOptions {
  return {
    // Docker's builder names the step's parent by id (its events' image attribute).
    image: `sha256:${image.id}`,
    command: s.argv,
    entrypoint: [],
    rm: false,
    interactive: false,
    tty: false,
    env: s.env,
    ...(s.workdir ? { workdir: s.workdir } : {}),
    ...(s.user ? { user: s.user } : {}),
    volumes: s.volumes ?? [],
    tmpfs: s.tmpfs ?? [],
    readOnly: false,
    privileged: false,
    capAdd: [],
    capDrop: [],
    logDriver: "none",
    ...(s.quiet ? { attach: { stdin: false, stdout: false, stderr: false } } : {}),
    ...(s.outputFd !== undefined ? { outputFd: s.outputFd } : {}),
    ...(s.network ? { network: s.network } : {}),
  };
}

/**
 * Runs the step; `commit` gets the container's upper dir once the command succeeded.
 * A non-zero status is Docker's error, with that status as the exit code.
 */
export async function runStep<T>(db: Database, root: string, image: ImageRecord, s: RunStep, commit: (upper: string) => Promise<T>): Promise<T> {
  if (image.layers.length === 0) throw new TsdError(`The command '${s.argv.join(" ")}' cannot run: the stage has no filesystem yet (FROM scratch)`, 1);
  const held = !s.quiet && s.live !== undefined && !s.live() ? join(rootPaths(root).tmp, `build-${process.pid}-${randomId().slice(0, 6)}`) : undefined;
  const fd = held ? openSync(held, "w+", 0o600) : undefined;
  // The held output goes to `out` once the command has ended, before the step's own lines.
  const flush = () => {
    if (fd === undefined || !held) return;
    closeSync(fd);
    const text = readFileSync(held, "utf8");
    rmSync(held, { force: true });
    if (text !== "") for (const line of text.replace(/\n$/, "").split("\n")) s.out(line);
  };
  let flushed = false;
  const once = () => {
    if (!flushed) flush();
    flushed = true;
  };
  try {
    return await runStepWith(db, root, image, { ...s, ...(fd !== undefined ? { outputFd: fd } : {}) }, commit, once);
  } finally {
    once();
  }
}

async function runStepWith<T>(db: Database, root: string, image: ImageRecord, s: RunStep & { outputFd?: number }, commit: (upper: string) => Promise<T>, ended: () => void): Promise<T> {
  const opts = runOptions(image, s);
  const c = createWithMeta(db, root, opts);
  s.out(` ---> Running in ${c.id.slice(0, 12)}`);
  containerEvent(db, c.id, "attach");
  s.abort.containers.add(c.id);
  const undo = () => {
    releaseContainer(db, root, c.id);
    removeContainerFiles(root, c.id);
    deleteContainer(db, c.id);
  };
  try {
    checkAbort(s.abort);
    const status = await startAttached(db, root, c.id, c.bundle, opts, undo);
    ended();
    checkAbort(s.abort);
    if (status !== 0) throw new TsdError(`The command '${s.argv.join(" ")}' returned a non-zero code: ${status}`, status);
    const result = await commit(join(c.bundle, "upper"));
    s.out(`Removing intermediate container ${c.id.slice(0, 12)}`);
    return result;
  } finally {
    s.abort.containers.delete(c.id);
    // With the image's VOLUMEs' anonymous volumes (what RUN writes there is not kept, as Docker's).
    if (containerById(db, c.id)) await removeContainer(db, root, c.id, true, true);
  }
}
