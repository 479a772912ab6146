// `start ID`: the created container's init is blocked reading its exec fifo (zig/runtime/init.zig
// awaitStart); one byte written there lets it run its startContainer hooks and exec the
// process. The fifo is then removed (the status becomes `running`: state-dir.ts statusOf), and
// once the init has exec'd (runtime-spec: poststart follows the process's start) the
// poststart hooks run; a failing poststart hook is a warning (runtime-spec), the container
// runs on.
//
//   startCommand(g: RuntimeGlobals, argv: string[]): Promise<number>   runc's start → 0
//   startRecord(g, rec): Promise<void>                                  start (and run's), under the lock
import { closeSync, constants, openSync, readFileSync, readlinkSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { TsdError } from "../errors";
import { exactArgs, parseFlags } from "./flags";
import type { RuntimeGlobals } from "./globals";
import { hooksOf, runHooksWarning, type Hook, type HookKind } from "./hooks";
import { logWarning } from "./log";
import { containerDir, FIFO_FILE, initAlive, ociState, statusOf, withRecord, type RuntimeRecord } from "./state-dir";

export async function startCommand(g: RuntimeGlobals, argv: string[]): Promise<number> {
  const p = parseFlags(argv, {});
  exactArgs("start", p.args, 1, "<container-id>");
  await withRecord(g.root, p.args[0]!, async (rec) => await startRecord(g, rec));
  return 0;
}

/** Writes the start byte into the exec fifo, removes it, runs the poststart hooks. */
export async function startRecord(g: RuntimeGlobals, rec: RuntimeRecord): Promise<void> {
  const status = statusOf(g.root, rec);
  if (status === "stopped") throw new TsdError("cannot start a container that has stopped", 1);
  if (status !== "created") throw new TsdError("cannot start an already running container", 1);
  const fifo = join(containerDir(g.root, rec.id), FIFO_FILE);
  let fd: number;
  try {
    fd = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENXIO") throw new TsdError(`cannot start container ${rec.id}: its init is not waiting on ${fifo}`, 1);
    throw e;
  }
  try {
    writeSync(fd, "0");
  } finally {
    closeSync(fd);
  }
  rmSync(fifo, { force: true });
  // Until the process runs, so that a signal sent once `start` returns reaches it, not the
  // init's last steps (an unhandled signal to a namespace's init is dropped); without
  // poststart hooks the wait is short and its end no error (as the front's, zig/front).
  const hooks = bundleHooks(rec.bundle, "poststart");
  if (hooks.length === 0) {
    await execed(rec, START_WAIT_MS);
    return;
  }
  if (!(await execed(rec, EXEC_WAIT_MS))) throw new TsdError(`container ${rec.id}: its init has not exec'd the process ${EXEC_WAIT_MS / 1000}s after start`, 1);
  // The process has been started: "running", even when it has ended by now.
  const state = { ...ociState(g.root, rec), pid: rec.pid, status: "running" };
  await runHooksWarning("poststart", hooks, state, (msg) => logWarning(g, msg));
}

/** With poststart hooks: they must follow the exec. */
const EXEC_WAIT_MS = 60_000;
/** Without: the front's bound (zig/front/main.zig exec_wait_ms). */
const START_WAIT_MS = 2_000;

/** Until the init has exec'd the process (its startContainer hooks done): runtime-spec's
 *  poststart runs after that. Seen in /proc/PID/exe, which is tsd-monitor's memfd until then;
 *  a dead init ends the wait too (its stderr has said why). False: still not after `limitMs`. */
async function execed(rec: RuntimeRecord, limitMs: number): Promise<boolean> {
  const end = Date.now() + limitMs;
  for (let pause = 1; initAlive(rec); pause = Math.min(pause * 2, 20)) {
    let exe = "";
    try {
      exe = readlinkSync(`/proc/${rec.pid}/exe`);
    } catch {
      return true; // Gone, or a zombie (no exe).
    }
    if (!exe.includes("tsd-monitor")) return true;
    if (Date.now() > end) return false;
    await Bun.sleep(pause);
  }
  return true;
}

/** The bundle's hooks of `kind` (none when its config.json is gone or unreadable). */
export function bundleHooks(bundle: string, kind: HookKind): Hook[] {
  try {
    return hooksOf(JSON.parse(readFileSync(join(bundle, "config.json"), "utf8")), kind);
  } catch {
    return [];
  }
}
